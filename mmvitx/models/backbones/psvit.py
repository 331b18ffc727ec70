"""PSViT: vision transformer with token pooling and attention sharing (Chen et al.,
arXiv 2108.03428).

A plain (DeiT-style) transformer made hierarchical and cheaper in two ways. Token pooling between
stages: fewer tokens and more channels deeper in the network. Attention sharing: a layer may reuse
the attention map of the layer before it, computing only V and ``map @ V`` (no Q, K or scores).
Two pooling designs:

- ``'2d'``: no class token; the tokens stay a 2-D map and a stride-2 3x3 convolution pools them.
- ``'1d'``: a class token and a 1-D token sequence; a 1-D convolution (kernel 1) changes the
  channels and a 1-D max pooling reduces the token count. mmvitx keeps the sequence in a nested
  2x2-block order, so that the max pooling (kernel and stride 4) merges 2x2 neighbourhoods: the
  token count falls by 4, as in the 2-D design, and the tokens still form a grid, which gives
  the 1-D design dense outputs too.

PSViT publishes neither code, weights nor its searched architectures. The presets below are
mmvitx's own instantiations at the budgets of DeiT-Tiny and DeiT-Small, not the paper's models.
Written from the paper's text alone.
"""
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath

from ..layers import (LinearFFN, ShareableMultiheadAttention, ceil_div, pad_to_multiple,
                      resize_abs_pos_embed, windowed)
from ..pretrained import register_converter
from .base import (DenseBackbone, check_outputs_and_freezing, init_transformer_weights,
                   register_backbone)

# mmvitx's instantiations (not the paper's searched models, which are unpublished). Per stage: the
# width, the heads and the layers, one letter each: 'B' a basic layer (computes its attention),
# 'S' a layer that shares the attention map of the layer before it. The paper's search units are
# 'B' (basic), 'BS' (a sharing pair) and '' (identity).
arch_zoo = {
    't': dict(embed_dims=(64, 128, 256), num_heads=(1, 2, 4),
              layers=('BSBSBSBS', 'BSBSBSBS', 'BSBB')),
    's': dict(embed_dims=(128, 256, 512), num_heads=(2, 4, 8),
              layers=('BSBSBSBSBS', 'BSBSBSBS', 'BSBB')),
}
arch_aliases = {'tiny': 't', 'small': 's'}
arch_defaults = dict(mlp_ratio=4)
NUM_STAGES = 3
PATCH_STRIDE = 8
# Output levels: stride 4 (stage 1 upsampled), 8, 16, 32 (stages 1-3).
NUM_LEVELS = 4


class PSViTLayer(nn.Module):
    """Pre-norm transformer layer whose attention may share the previous layer's map.

    With ``window_size``, attention runs inside non-overlapping windows of the (zero-padded)
    token map; a layer that shares a map must use the same windows as the layer it shares with.
    """

    def __init__(self, dims: int, num_heads: int, shares_map: bool, mlp_ratio: float,
                 window_size: int, drop_path: float, drop_rate: float = 0.,
                 attn_drop_rate: float = 0., with_cp: bool = False):
        super().__init__()
        self.window_size = window_size
        self.with_cp = with_cp
        self.norm1 = nn.LayerNorm(dims, eps=1e-6)
        self.attn = ShareableMultiheadAttention(dims, num_heads, shares_map,
                                                attn_drop=attn_drop_rate, proj_drop=drop_rate)
        self.norm2 = nn.LayerNorm(dims, eps=1e-6)
        self.mlp = LinearFFN(dims, int(dims * mlp_ratio), drop=drop_rate)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def _attention(self, x, size, shared_map, return_map):
        if not self.window_size:
            return self.attn(x, shared_map, return_map)
        out, attn_map = windowed(lambda windows: self.attn(windows, shared_map, return_map),
                                 x.reshape(x.shape[0], *size, x.shape[-1]),
                                 (self.window_size, self.window_size))
        return out.flatten(1, 2), attn_map

    def _forward(self, x, size, shared_map, return_map):
        attn, attn_map = self._attention(self.norm1(x), size, shared_map, return_map)
        x = x + self.drop_path(attn)
        return x + self.drop_path(self.mlp(self.norm2(x))), attn_map

    def forward(self, x: torch.Tensor, size: tuple[int, int],
                shared_map: torch.Tensor | None = None, return_map: bool = False):
        """(B, N, C) tokens of an (H, W) map -> the same, and the attention map if asked for."""
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, size, shared_map, return_map,
                                 use_reentrant=False)
        return self._forward(x, size, shared_map, return_map)


class TokenPooling2d(nn.Module):
    """PSViT-2D pooling: a stride-2 3x3 convolution on the token map (as ResNet downsamples),
    then a LayerNorm. An odd side rounds up."""

    def __init__(self, in_dims: int, out_dims: int):
        super().__init__()
        self.conv = nn.Conv2d(in_dims, out_dims, 3, 2, 1)
        self.norm = nn.LayerNorm(out_dims, eps=1e-6)

    def forward(self, x: torch.Tensor, size: tuple[int, int]):
        grid = self.conv(x.transpose(1, 2).reshape(x.shape[0], -1, *size))
        return self.norm(grid.flatten(2).transpose(1, 2)), tuple(grid.shape[-2:])


class TokenPooling1d(nn.Module):
    """PSViT-1D pooling: a 1-D convolution (kernel 1) over the sequence changes the channels of
    every token, the class token included; a 1-D max pooling (kernel and stride 4) then merges
    each run of 4 patch tokens, a 2x2 neighbourhood in mmvitx's block order (see
    :func:`to_block_order`); then a LayerNorm."""

    def __init__(self, in_dims: int, out_dims: int):
        super().__init__()
        self.conv = nn.Conv1d(in_dims, out_dims, 1)
        self.norm = nn.LayerNorm(out_dims, eps=1e-6)

    def forward(self, x: torch.Tensor, size: tuple[int, int]):
        x = self.conv(x.transpose(1, 2))
        tokens = F.max_pool1d(x[:, :, 1:], kernel_size=4, stride=4)
        x = torch.cat([x[:, :, :1], tokens], dim=2).transpose(1, 2)
        return self.norm(x), (size[0] // 2, size[1] // 2)


def to_block_order(grid: torch.Tensor, levels: int) -> torch.Tensor:
    """(B, H, W, C), H and W multiples of 2**levels -> (B, H * W, C) in nested 2x2-block order.

    Blocks of 2**levels x 2**levels tokens in raster order; inside each, its four quadrants in
    raster order, recursively. Every run of 4 tokens is then a 2x2 neighbourhood, and merging the
    runs leaves the coarser grid in the same order with ``levels - 1``.
    """
    batch, height, width, channels = grid.shape
    side = 2**levels
    x = grid.reshape(batch, height // side, *[2] * levels, width // side, *[2] * levels, channels)
    fine = [axis for level in range(levels) for axis in (2 + level, 3 + levels + level)]
    return x.permute(0, 1, 2 + levels, *fine, 3 + 2 * levels).reshape(batch, -1, channels)


def from_block_order(tokens: torch.Tensor, size: tuple[int, int], levels: int) -> torch.Tensor:
    """Inverse of :func:`to_block_order`: (B, H * W, C) -> (B, H, W, C)."""
    batch, _, channels = tokens.shape
    side = 2**levels
    x = tokens.reshape(batch, size[0] // side, size[1] // side, *[2, 2] * levels, channels)
    rows = [3 + 2 * level for level in range(levels)]
    cols = [4 + 2 * level for level in range(levels)]
    return x.permute(0, 1, *rows, 2, *cols, 3 + 2 * levels).reshape(batch, *size, channels)


@register_backbone
class PSViT(DenseBackbone):
    """PSViT backbone (`arXiv 2108.03428 <https://arxiv.org/abs/2108.03428>`_), mmvitx's
    instantiations.

    A patch embedding (8x8 convolution, stride 8) and an absolute position embedding feed three
    stages at strides 8, 16 and 32, with a token pooling before stages 2 and 3.

    Args:
        arch: ``'t'`` or ``'s'`` (mmvitx's Tiny and Small, see ``arch_zoo``), or a dict with
            ``embed_dims``, ``num_heads`` and ``layers`` (per stage, a string of 'B' basic and
            'S' sharing layers; a stage starts with 'B', since its tokens differ from the last
            stage's) and optionally ``mlp_ratio``.
        pooling: ``'2d'`` (no class token; stride-2 conv pooling) or ``'1d'`` (class token; 1-D
            conv and max pooling).
        in_channels: input image channels.
        out_indices: output levels 0-3 at strides 4/8/16/32. Level 0 is stage 1's output
            upsampled by a 2x2 stride-2 transposed convolution (ViTDet's simple feature pyramid
            step); levels 1-3 are the outputs of stages 1-3. Each through its own new norm.
        out_type: ``'featmap'`` (B, C, H, W) maps, or ``'cls_token'`` (1-D design, levels 1-3):
            the LayerNorm'ed (B, C) class token after those stages, for classification.
        window_size: if set, attention inside windows of this many tokens in stages 1 and 2,
            except for stage 2's last basic layer and the layers sharing its map, which attend
            globally, as does stage 3 (MViTv2/ViTDet's hybrid window attention for detection
            resolutions). 2-D design only.
        pretrain_img_size: the input size of the pretraining; sizes the position embedding
            (resized to the actual token grid at run time).
        drop_rate, attn_drop_rate: dropout after the projections and on the attention map.
        drop_path_rate: stochastic depth, linear over all layers.
        frozen_stages: freeze the patch and position embeddings (0) and stages 1..k with their
            poolings and outputs; -1 freezes nothing.
        norm_eval: keep BatchNorm layers in eval mode (in case ``out_norm_cfg`` is BN).
        with_cp: activation checkpointing of every layer.
        out_norm_cfg: the norm of each output map (default: LayerNorm over the channels).
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH)`` loads a local mmvitx checkpoint or
            an mmpretrain classifier holding this backbone.

    Any input size works: the image is zero-padded to a multiple of the patch stride (1-D
    design: of the stride of the last stage, so that the block order is defined), windows are
    padded, and the stage outputs are cropped to ``ceil(size / stride)``; level 0 is twice
    level 1.
    """

    family = 'psvit'
    num_stages = NUM_STAGES
    arch_zoo = arch_zoo
    arch_aliases = arch_aliases
    default_arch = 't'
    arch_required = frozenset({'embed_dims', 'num_heads', 'layers'})
    arch_defaults = arch_defaults
    # position terms: the absolute embedding and the 1-D design's class token
    no_weight_decay_keys = ('pos_embed', 'cls_token')
    variants = (dict(pooling='1d'), dict(window_size=7))
    # An ImageNet classifier holding PSViT (README) has neither the level-0 upsampling nor the
    # output norms of the levels it does not use.
    keys_missing_from_release = (r'out_norms\.', r'upsample\.')
    pretrain_size_keys = (r'pos_embed$', )

    def __init__(self,
                 arch: str | dict = default_arch,
                 pooling: str = '2d',
                 in_channels: int = 3,
                 out_indices: tuple[int, ...] = (0, 1, 2, 3),
                 out_type: str = 'featmap',
                 window_size: int | None = None,
                 pretrain_img_size: int = 224,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 out_norm_cfg: dict = dict(type='LN2d', eps=1e-6),
                 init_cfg: dict | None = None):
        super().__init__(init_cfg=init_cfg)
        self.arch = self.resolve_arch(arch)
        out_indices = check_outputs_and_freezing(out_indices, frozen_stages, unit='level',
                                                 num=NUM_LEVELS, num_stages=NUM_STAGES)
        if pooling not in ('1d', '2d'):
            raise ValueError(f"PSViT pooling must be '1d' or '2d', got {pooling!r}")
        if out_type not in ('featmap', 'cls_token'):
            raise ValueError(f"PSViT out_type must be 'featmap' or 'cls_token', got {out_type!r}")
        if out_type == 'cls_token' and (pooling != '1d' or 0 in out_indices):
            raise ValueError("out_type='cls_token' needs pooling='1d' (the design with a class "
                             'token) and out_indices among the stage levels 1-3')
        if window_size and pooling == '1d':
            raise ValueError('window_size needs pooling=\'2d\': the 1-D design\'s class token '
                             'attends globally')
        self.pooling = pooling
        self.out_indices = out_indices
        self.out_type = out_type
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.pretrain_grid = pretrain_img_size // PATCH_STRIDE
        dims, heads, layers = (self.arch[k] for k in ('embed_dims', 'num_heads', 'layers'))

        self.patch_embed = nn.Conv2d(in_channels, dims[0], PATCH_STRIDE, PATCH_STRIDE)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dims[0])) if pooling == '1d' else None
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.pretrain_grid**2 + int(pooling == '1d'), dims[0]))
        pooling_layer = TokenPooling1d if pooling == '1d' else TokenPooling2d
        self.poolings = nn.ModuleList(
            pooling_layer(dims[i], dims[i + 1]) for i in range(NUM_STAGES - 1))
        rates = iter(torch.linspace(0, drop_path_rate, sum(map(len, layers)), device='cpu').tolist())
        self.stages = nn.ModuleList()
        for stage, codes in enumerate(layers):
            windowed_until = len(codes)
            if stage == NUM_STAGES - 1 or not window_size:
                windowed_until = 0
            elif stage == NUM_STAGES - 2:
                windowed_until = codes.rindex('B')
            self.stages.append(nn.ModuleList(
                PSViTLayer(dims[stage], heads[stage], code == 'S', self.arch['mlp_ratio'],
                           window_size if i < windowed_until else 0, next(rates), drop_rate,
                           attn_drop_rate, with_cp)
                for i, code in enumerate(codes)))
        level_dims = (dims[0], *dims)
        self.num_features = level_dims
        self.upsample = (nn.ConvTranspose2d(dims[0], dims[0], 2, 2) if 0 in out_indices else None)
        if out_type == 'cls_token':
            norms = {str(i): nn.LayerNorm(level_dims[i], eps=1e-6) for i in out_indices}
        else:
            norms = {str(i): build_norm_layer(out_norm_cfg, level_dims[i])[1] for i in out_indices}
        self.out_norms = nn.ModuleDict(norms)
        self._finish_init()

    @classmethod
    def _check_arch(cls, arch):
        for key in ('embed_dims', 'num_heads', 'layers'):
            if len(arch[key]) != NUM_STAGES:
                raise ValueError(f'PSViT arch {key} needs {NUM_STAGES} entries, got {arch[key]}')
        for stage, codes in enumerate(arch['layers']):
            if set(codes) - {'B', 'S'} or codes.startswith('S'):
                raise ValueError(
                    f"PSViT arch layers[{stage}] = {codes!r}: use 'B' (basic) and 'S' (shares the "
                    f"previous layer's attention map), starting with 'B' (a stage's first layer "
                    f'has no previous layer on its tokens)')

    def out_sizes(self, height, width):
        # Level 0 is stage 1 (stride 8) upsampled 2x, so it is twice level 1, not ceil(size / 4).
        sizes = super().out_sizes(height, width)
        return [(2 * ceil_div(height, 8), 2 * ceil_div(width, 8)) if level == 0 else size
                for level, size in zip(self.out_indices, sizes)]

    def _grid(self, x, size, levels):
        """A stage's (B, [cls +] N, C) tokens -> (B, C, H, W) map."""
        if self.cls_token is None:
            return x.transpose(1, 2).reshape(x.shape[0], -1, *size)
        return from_block_order(x[:, 1:], size, levels).permute(0, 3, 1, 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        multiple = PATCH_STRIDE * (2**(NUM_STAGES - 1) if self.cls_token is not None else 1)
        height, width = x.shape[-2:]
        out_sizes = [(ceil_div(height, PATCH_STRIDE * 2**s), ceil_div(width, PATCH_STRIDE * 2**s))
                     for s in range(NUM_STAGES)]
        x = F.pad(x, (0, pad_to_multiple(width, multiple), 0, pad_to_multiple(height, multiple)))
        x = self.patch_embed(x)
        size = tuple(x.shape[-2:])
        x = x.flatten(2).transpose(1, 2)
        if self.cls_token is None:
            x = x + resize_abs_pos_embed(self.pos_embed, 0, self.pretrain_grid, size)
        else:
            x = x + resize_abs_pos_embed(self.pos_embed, 1, self.pretrain_grid, size)[:, 1:]
            x = to_block_order(x.reshape(x.shape[0], *size, -1), NUM_STAGES - 1)
            cls_token = self.cls_token + self.pos_embed[:, :1]
            x = torch.cat([cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        outs = {}
        last_stage = max(max(self.out_indices) - 1, 0)
        for stage, layers in enumerate(self.stages[:last_stage + 1]):
            if stage:
                x, size = self.poolings[stage - 1](x, size)
            attn_map = None
            for i, layer in enumerate(layers):
                shares_next = i + 1 < len(layers) and layers[i + 1].attn.shares_map
                x, attn_map = layer(x, size, attn_map, shares_next)
            if self.out_type == 'cls_token':
                outs[stage + 1] = x[:, 0]
                continue
            grid = self._grid(x, size, NUM_STAGES - 1 - stage)
            grid = grid[:, :, :out_sizes[stage][0], :out_sizes[stage][1]]
            if stage == 0 and self.upsample is not None:
                outs[0] = self.upsample(grid)
            outs[stage + 1] = grid
        return tuple(self.out_norms[str(i)](outs[i]).contiguous() for i in self.out_indices)

    def _no_weight_decay_parameters(self):
        return [self.cls_token, self.pos_embed]

    def _init_layers(self):
        init_transformer_weights(self, (self.cls_token, self.pos_embed))

    def keys_not_built(self) -> tuple[str, ...]:
        return () if 0 in self.out_indices else (r'upsample\.', )

    def _frozen_modules(self):
        if self.frozen_stages >= 0:
            yield self.patch_embed
            yield from (p for p in (self.cls_token, self.pos_embed) if p is not None)
        for stage in range(self.frozen_stages):
            if stage:
                yield self.poolings[stage - 1]
            yield self.stages[stage]
            if stage == 0 and self.upsample is not None:
                yield self.upsample
            for level in ((0, 1) if stage == 0 else (stage + 1, )):
                if str(level) in self.out_norms:
                    yield self.out_norms[str(level)]


@register_converter('psvit', source='an ImageNet-pretrained PSViT classifier of yours (PSViT '
                   'has no released weights; README, "PSViT")')
def convert_psvit(state_dict: dict) -> OrderedDict:
    """mmvitx PSViT weights from an mmvitx checkpoint or from an ImageNet classifier holding the
    backbone (e.g. mmpretrain's ``ImageClassifier``: the ``backbone.`` prefix is already removed
    by the loader); the classifier head (``head.*``) is dropped. PSViT has no official release."""
    return OrderedDict((k, v) for k, v in state_dict.items() if not k.startswith('head.'))
