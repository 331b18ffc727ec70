"""FasterViT: Fast Vision Transformers with Hierarchical Attention (Hatamizadeh et al., ICLR 2024).

A convolutional stem and two convolutional stages at strides 4 and 8, then two transformer stages
at strides 16 and 32 built from hierarchical attention (HAT) blocks. In a HAT stage the map is
split into windows; a few carrier tokens per window, pooled from the map, first attend to each
other across the whole image and are then prepended to their window's tokens for local
attention, so every window sees a summary of all others at the cost of windowed attention.

Written from the paper; layer details follow the official release (NVlabs/FasterViT,
``fastervit/models/faster_vit.py`` and, at other sizes, ``faster_vit_any_res.py``), whose weights
load. Carrier tokens and windows follow the actual feature size at every forward (the map is padded
to window multiples and cropped back), so one model serves any input size; nothing
resolution-dependent is stored in the checkpoint.
"""
import math
import re
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath

from ..layers import (ContinuousBiasWindowAttention, ContinuousPositionBias, ConvModuleChain,
                      FoldedConvModule, GridPositionEmbedding, LayerNorm2d, LayerScale, LinearFFN,
                      batch_norm_act, ceil_div, window_merge, window_partition, windowed)
from ..pretrained import register_converter
from .base import (DenseBackbone, check_outputs_and_freezing, init_transformer_weights,
                   register_backbone)

# Stage-1 channels (doubled per stage), stem channels, blocks per stage, heads of the attention
# stages (the first two entries are unused: those stages are convolutional), window per stage,
# layer-scale init (None: off), carrier tokens per stage, and the stage-end carrier-token
# propagation. The 21k models have no carrier tokens; their stage-3 window covers the whole
# stage-3 map at the named resolution (global attention).
_SHARED = dict(stem_dims=64, depths=(3, 3, 12, 5), num_heads=(4, 8, 16, 32), layer_scale=1e-5,
               propagation=True)
_IN21K = dict(_SHARED, embed_dims=196, carrier_tokens=(False, ) * 4)
arch_zoo = {
    '0': dict(embed_dims=64, stem_dims=64, depths=(2, 3, 6, 5), num_heads=(2, 4, 8, 16)),
    '1': dict(embed_dims=80, stem_dims=32, depths=(1, 3, 8, 5), num_heads=(2, 4, 8, 16)),
    '2': dict(embed_dims=96, stem_dims=64, depths=(3, 3, 8, 5), num_heads=(2, 4, 8, 16)),
    '3': dict(_SHARED, embed_dims=128, num_heads=(2, 4, 8, 16)),
    '4': dict(_SHARED, embed_dims=196),
    '5': dict(_SHARED, embed_dims=320),
    '6': dict(_SHARED, embed_dims=320, depths=(3, 3, 16, 8)),
    '4-21k-224': dict(_IN21K, window_sizes=(7, 7, 14, 7)),
    '4-21k-384': dict(_IN21K, window_sizes=(7, 7, 24, 12), pretrain_img_size=384),
    '4-21k-512': dict(_IN21K, window_sizes=(7, 7, 32, 16), pretrain_img_size=512),
    '4-21k-768': dict(_IN21K, window_sizes=(7, 7, 48, 24), pretrain_img_size=768),
}
# The official model names, and '4-21k' for the 224 model.
arch_aliases = {
    '4-21k': '4-21k-224',
    **{f'faster_vit_{k}_224': k for k in '0123456'},
    **{f'faster_vit_4_21k_{r}': f'4-21k-{r}' for r in (224, 384, 512, 768)},
}
arch_defaults = dict(window_sizes=(7, 7, 7, 7), carrier_tokens=(False, False, True, False),
                     layer_scale=None, propagation=False, ct_size=2, mlp_ratio=4,
                     pretrain_img_size=224)
NUM_STAGES = 4
CONV_STAGES = 2
# How the carrier tokens adapt to the input size (see FasterViT's docstring).
CARRIER_TOKEN_MODES = ('any_res', 'extrapolate')


class ConvBlock(nn.Module):
    """Residual block of the convolutional stages: conv3x3-BN-GELU-conv3x3-BN."""

    def __init__(self, dims: int, drop_path: float, norm_cfg: dict, with_cp: bool = False):
        super().__init__()
        self.with_cp = with_cp
        self.conv1 = nn.Conv2d(dims, dims, 3, padding=1)
        self.norm1 = build_norm_layer(norm_cfg, dims)[1]
        self.conv2 = nn.Conv2d(dims, dims, 3, padding=1)
        self.norm2 = build_norm_layer(norm_cfg, dims)[1]
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def _forward(self, x):
        y = self.norm2(batch_norm_act(self.conv1(x), self.norm1, 'gelu', self.conv2))
        return x + self.drop_path(y)

    def forward(self, x):
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)


class ConvStage(nn.Module):
    """Convolutional stage (strides 4 and 8): a sequence of :class:`ConvBlock`."""

    def __init__(self, dims: int, drop_paths: list[float], norm_cfg: dict, with_cp: bool):
        super().__init__()
        self.blocks = nn.ModuleList(ConvBlock(dims, p, norm_cfg, with_cp) for p in drop_paths)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x


class Downsample(nn.Module):
    """Between stages: LayerNorm over channels, then a stride-2 3x3 conv doubling the channels."""

    def __init__(self, dims: int):
        super().__init__()
        self.norm = LayerNorm2d(dims, eps=1e-6)
        self.conv = nn.Conv2d(dims, 2 * dims, 3, stride=2, padding=1, bias=False)

    def forward(self, x):
        return self.conv(self.norm(x))


class CarrierTokenInitializer(nn.Module):
    """Carrier tokens of a map: a depthwise 3x3 conv (positional encoding), then average pooling
    to ``ct_size`` x ``ct_size`` tokens per window.

    The pooling is derived from the size of the map it is given at every call (the map padded to
    window multiples, or the map itself; see ``carrier_token_mode``): for ``n`` tokens along a
    side of length ``s``, stride ``s // n`` and kernel ``s - (n - 1) * stride`` (so the tokens
    cover the whole side), which is the paper's 4x4 pooling (kernel 5, stride 3) of the 14x14
    stage-3 map at 224x224. Sides shorter than their token count are pooled adaptively.
    """

    def __init__(self, dims: int, ct_size: int):
        super().__init__()
        self.ct_size = ct_size
        self.conv = nn.Conv2d(dims, dims, 3, padding=1, groups=dims)

    def forward(self, x: torch.Tensor, num_windows: tuple[int, int]) -> torch.Tensor:
        """(B, C, H, W) -> (B, ct_size * nh, ct_size * nw, C) for nh x nw windows."""
        x = self.conv(x)
        tokens = [self.ct_size * n for n in num_windows]
        sides = x.shape[-2:]
        if all(s >= n for s, n in zip(sides, tokens)):
            stride = [s // n for s, n in zip(sides, tokens)]
            kernel = [s - (n - 1) * st for s, n, st in zip(sides, tokens, stride)]
            x = F.avg_pool2d(x, kernel, stride)
        else:
            x = F.adaptive_avg_pool2d(x, tokens)
        return x.permute(0, 2, 3, 1)


class RunningGridPositionBias(ContinuousPositionBias):
    """Continuous position bias normalised by the grid it is evaluated on, not by a fixed
    pretraining grid: the official any-resolution model builds its carrier-token attention bias
    for the carrier grid of the resolution it runs at."""

    def __init__(self, num_heads: int):
        super().__init__(num_heads, pretrained_window=(1, 1))  # set at every call

    def forward(self, window: tuple[int, int], reference: torch.Tensor) -> torch.Tensor:
        # The inference cache is keyed on the window, which here also fixes the normalisation.
        self.pretrained_window = tuple(window)
        return super().forward(window, reference)


class HATBlock(nn.Module):
    """Hierarchical attention block on windowed tokens, with or without carrier tokens.

    1. A positional MLP over the window grid is added to every window's tokens.
    2. Carrier tokens (if any) get their own positional MLP over the image-wide carrier grid,
       then global attention among themselves and an MLP.
    3. Each window's carrier tokens are prepended to its tokens; window attention (continuous
       position bias, none for the carrier tokens) and an MLP run on the concatenation.
    4. The carrier tokens are split off again. With ``propagate`` (the stage's last block in the
       larger models), they are upsampled (nearest) onto their window and added to its tokens.

    ``carrier_token_mode`` (see :class:`FasterViT`): with ``'extrapolate'`` the carrier attention
    bias is relative to ``pretrained_ct_grid``; with ``'any_res'`` it is relative to the running
    grid, and non-square carrier grids are handled as the official any-resolution model does.
    """

    def __init__(self, dims: int, num_heads: int, window_size: int, mlp_ratio: float,
                 drop_path: float, layer_scale: float | None, ct_size: int | None,
                 pretrained_ct_grid: tuple[int, int], carrier_token_mode: str = 'any_res',
                 propagate: bool = False, drop: float = 0., attn_drop: float = 0.,
                 with_cp: bool = False):
        super().__init__()
        self.window_size = window_size
        self.ct_size = ct_size
        self.carrier_token_mode = carrier_token_mode
        self.propagate = propagate
        self.with_cp = with_cp
        hidden = int(dims * mlp_ratio)

        def layer_scale_or_identity():
            return LayerScale(dims, layer_scale) if layer_scale else nn.Identity()

        self.window_pos = GridPositionEmbedding(dims)
        self.norm1 = nn.LayerNorm(dims)
        self.attn = ContinuousBiasWindowAttention(dims, num_heads, (window_size, window_size),
                                                  attn_drop=attn_drop, proj_drop=drop)
        self.ls1 = layer_scale_or_identity()
        self.norm2 = nn.LayerNorm(dims)
        self.ffn = LinearFFN(dims, hidden, drop)
        self.ls2 = layer_scale_or_identity()
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        if ct_size:
            self.ct_pos = GridPositionEmbedding(dims)
            self.ct_norm1 = nn.LayerNorm(dims)
            self.ct_attn = ContinuousBiasWindowAttention(dims, num_heads, pretrained_ct_grid,
                                                         attn_drop=attn_drop, proj_drop=drop)
            if carrier_token_mode == 'any_res':
                self.ct_attn.cpb = RunningGridPositionBias(num_heads)
            self.ct_ls1 = layer_scale_or_identity()
            self.ct_norm2 = nn.LayerNorm(dims)
            self.ct_ffn = LinearFFN(dims, hidden, drop)
            self.ct_ls2 = layer_scale_or_identity()

    def _carrier_layout(self, ct_h: int, ct_w: int):
        """The grid of the carrier attention bias, the number of leading carrier tokens without
        bias, and the (rows, columns) as which the raster of carrier tokens is cut into windows.

        The official any-resolution model builds the bias for a square grid of floor(sqrt(n))
        tokens per side, applied to the last tokens (the first n - side^2 get none), and reads the
        raster as ct_w rows of ct_h tokens when it hands the carrier tokens to the windows; on a
        square grid both are the plain layout.
        """
        if self.carrier_token_mode == 'extrapolate':
            return (ct_h, ct_w), 0, (ct_h, ct_w)
        side = math.isqrt(ct_h * ct_w)
        return (side, side), ct_h * ct_w - side * side, (ct_w, ct_h)

    def _forward(self, windows, carriers):
        window = (self.window_size, self.window_size)
        x = windows + self.window_pos(window, windows)
        num_prefix = 0
        if carriers is not None:
            batch, ct_h, ct_w, channels = carriers.shape
            bias_grid, num_unbiased, window_read = self._carrier_layout(ct_h, ct_w)
            ct = carriers.flatten(1, 2)
            ct = ct + self.ct_pos((ct_h, ct_w), ct)
            ct = ct + self.drop_path(self.ct_ls1(
                self.ct_attn(self.ct_norm1(ct), bias_grid, num_unbiased)))
            ct = ct + self.drop_path(self.ct_ls2(self.ct_ffn(self.ct_norm2(ct))))
            ct_windows = window_partition(ct.view(batch, *window_read, channels),
                                          (self.ct_size, self.ct_size))
            num_prefix = ct_windows.shape[1]
            x = torch.cat([ct_windows, x], dim=1)
        x = x + self.drop_path(self.ls1(self.attn(self.norm1(x), window, num_prefix)))
        x = x + self.drop_path(self.ls2(self.ffn(self.norm2(x))))
        if carriers is None:
            return x, None
        ct_windows, x = x.split([num_prefix, x.shape[1] - num_prefix], dim=1)
        if self.propagate:
            ct_map = ct_windows.transpose(1, 2).unflatten(2, (self.ct_size, self.ct_size))
            ct_map = F.interpolate(ct_map, size=window, mode='nearest')
            x = x + self.ct_ls1(ct_map.flatten(2).transpose(1, 2))
        carriers = window_merge(ct_windows, (self.ct_size, self.ct_size), ct_h, ct_w)
        return x, carriers

    def forward(self, windows: torch.Tensor, carriers: torch.Tensor | None):
        """windows: (B * num_windows, w * w, C); carriers: (B, ct_h, ct_w, C) or None."""
        if self.with_cp and windows.requires_grad:
            return cp.checkpoint(self._forward, windows, carriers, use_reentrant=False)
        return self._forward(windows, carriers)


class HATStage(nn.Module):
    """Transformer stage: carrier-token initialisation (if used), window partition of the padded
    map, HAT blocks, window merge and crop.

    With ``carrier_token_mode='any_res'`` the carrier tokens are pooled from the map zero-padded
    to window multiples, and a map that is a single window gets none (its window attention is
    already global); with ``'extrapolate'`` they are pooled from the map itself, always.
    """

    def __init__(self, dims: int, depth: int, num_heads: int, window_size: int,
                 carrier_tokens: bool, ct_size: int, propagation: bool, pretrained_size: int,
                 carrier_token_mode: str, drop_paths: list[float], block_kwargs: dict):
        super().__init__()
        self.window_size = window_size
        self.carrier_token_mode = carrier_token_mode
        ct = ct_size if carrier_tokens else None
        pretrained_grid = ct_size * ceil_div(pretrained_size, window_size)
        self.carrier_init = CarrierTokenInitializer(dims, ct_size) if carrier_tokens else None
        self.blocks = nn.ModuleList(
            HATBlock(dims, num_heads, window_size, drop_path=drop_paths[k], ct_size=ct,
                     pretrained_ct_grid=(pretrained_grid, pretrained_grid),
                     carrier_token_mode=carrier_token_mode,
                     propagate=propagation and k == depth - 1, **block_kwargs)
            for k in range(depth))

    def _carriers(self, x: torch.Tensor, num_windows: tuple[int, int]) -> torch.Tensor | None:
        if self.carrier_init is None:
            return None
        if self.carrier_token_mode == 'extrapolate':
            return self.carrier_init(x, num_windows)
        if num_windows == (1, 1):
            return None
        pad_h, pad_w = (n * self.window_size - side for n, side in zip(num_windows, x.shape[-2:]))
        return self.carrier_init(F.pad(x, (0, pad_w, 0, pad_h)), num_windows)

    def _run_blocks(self, windows, carriers):
        for block in self.blocks:
            windows, carriers = block(windows, carriers)
        return windows

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        window = (self.window_size, self.window_size)
        height, width = x.shape[-2:]
        num_windows = (ceil_div(height, self.window_size), ceil_div(width, self.window_size))
        carriers = self._carriers(x, num_windows)
        x = windowed(lambda windows: self._run_blocks(windows, carriers), x.permute(0, 2, 3, 1),
                     window)
        return x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)


@register_backbone
class FasterViT(DenseBackbone):
    """FasterViT backbone (`arXiv 2306.06189 <https://arxiv.org/abs/2306.06189>`_).

    Args:
        arch: ``'0'`` ... ``'6'``, ``'4-21k-224'``, ``'4-21k-384'``, ``'4-21k-512'``,
            ``'4-21k-768'`` (or the official names such as ``'faster_vit_2_224'``), or a dict with
            ``embed_dims``, ``stem_dims``, ``depths`` and ``num_heads`` and optionally
            ``window_sizes``, ``carrier_tokens``, ``layer_scale``, ``propagation``, ``ct_size``,
            ``mlp_ratio`` and ``pretrain_img_size`` (defaults in ``arch_defaults``).
        in_channels: input image channels.
        out_indices: stages to output, 0-3 at strides 4/8/16/32 (the stage outputs before the
            following downsample), each through a new norm (``out_norm_cfg``).
        drop_path_rate: stochastic depth, linear over all blocks.
        drop_rate: dropout after the attention and MLP projections.
        attn_drop_rate: dropout of the attention weights.
        frozen_stages: freeze the stem (0) and stages 1..k with their downsamples and output
            norms; -1 freezes nothing.
        norm_eval: keep BatchNorm layers in eval mode (frozen statistics) during training.
        with_cp: activation checkpointing of every block (saves memory).
        carrier_token_mode: how the carrier tokens follow an input size other than the
            pretraining one (``pretrain_img_size``; at the presets' pretraining size both modes
            are the same model, the official ``faster_vit_*_224``):

            - ``'any_res'`` (default): the official any-resolution model (``faster_vit_any_res``)
              built for the actual input size, recomputed at every forward. The tokens are pooled
              from the map zero-padded to window multiples; the carrier attention bias is relative
              to the running carrier grid; a map that is a single window has no carrier tokens. On
              a non-square carrier grid the official model's handling is followed as well: the
              bias covers a square grid of floor(sqrt(n)) per side over the last carrier tokens,
              and the carrier windows are read from the raster transposed. Pick it for the
              released checkpoints at detection and segmentation sizes and for checkpoints trained
              with the official any-resolution code.
            - ``'extrapolate'``: the tokens are pooled from the map itself (not padded) and the
              carrier attention bias is relative to the pretraining carrier grid, so that larger
              grids extrapolate it Swin V2-style; carrier tokens exist at every size. Pick it for
              checkpoints trained with it (mmvitx's behaviour before ``'any_res'``).

            The official non-square any-resolution models have no carrier-token position
            embedding (``hat_pos_embed``); mmvitx keeps it at every grid, so that it trains at
            every size, and the converter sets its output layer to zero for checkpoints without
            one, which makes the two models equal.
        norm_cfg: norm of the stem and the convolutional stages (the stem uses eps 1e-4 unless
            given).
        out_norm_cfg: norm applied to each output.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH)`` loads a local checkpoint (official
            or mmvitx layout, converted on load); otherwise the paper's initialisation.
    """

    family = 'fastervit'
    arch_zoo = arch_zoo
    arch_aliases = arch_aliases
    default_arch = '0'
    arch_required = frozenset({'embed_dims', 'stem_dims', 'depths', 'num_heads'})
    arch_defaults = arch_defaults
    # position MLPs of the HAT blocks (continuous bias, window and carrier-token terms); layer scales
    no_weight_decay_keys = ('.cpb.', '.window_pos.', '.ct_pos.', 'ls1.weight', 'ls2.weight')
    variants = (dict(carrier_token_mode='extrapolate'), )
    reference = 'mmvitx.testing.references:build_fastervit_pair'
    keys_missing_from_release = (r'out_norms\.', )
    # One file per input size: a stage of one window runs without carrier tokens (as the official
    # any-resolution model does), a branch on the size that a graph keeps one side of; and the
    # carrier pooling's kernel is derived from the map size, where ONNX's AveragePool fixes it.
    # The tracer cannot take that kernel at all; torch.export takes it as the example's.
    onnx_exporter = 'dynamo'
    onnx_dynamic_size = False

    def __init__(self,
                 arch: str | dict = default_arch,
                 in_channels: int = 3,
                 out_indices: tuple[int, ...] = (0, 1, 2, 3),
                 drop_path_rate: float = 0.,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 carrier_token_mode: str = 'any_res',
                 norm_cfg: dict = dict(type='BN'),
                 out_norm_cfg: dict = dict(type='LN2d', eps=1e-6),
                 init_cfg: dict | None = None):
        super().__init__(init_cfg=init_cfg)
        self.arch = self.resolve_arch(arch)
        if carrier_token_mode not in CARRIER_TOKEN_MODES:
            raise ValueError(f'carrier_token_mode must be one of {CARRIER_TOKEN_MODES}, got '
                             f'{carrier_token_mode!r}')
        self.carrier_token_mode = carrier_token_mode
        out_indices = check_outputs_and_freezing(out_indices, frozen_stages, num=NUM_STAGES)
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        dims = [self.arch['embed_dims'] * 2**i for i in range(NUM_STAGES)]
        self.num_features = tuple(dims)

        stem_dims = self.arch['stem_dims']
        stem_norm = {'eps': 1e-4, **norm_cfg}
        self.stem = ConvModuleChain(
            FoldedConvModule(in_channels, stem_dims, 3, stride=2, padding=1, bias=False,
                             norm_cfg=stem_norm),
            FoldedConvModule(stem_dims, dims[0], 3, stride=2, padding=1, bias=False,
                             norm_cfg=stem_norm))

        depths = self.arch['depths']
        rates = torch.linspace(0, drop_path_rate, sum(depths), device='cpu').tolist()
        block_kwargs = dict(mlp_ratio=self.arch['mlp_ratio'], layer_scale=self.arch['layer_scale'],
                            drop=drop_rate, attn_drop=attn_drop_rate, with_cp=with_cp)
        self.stages = nn.ModuleList()
        for i, depth in enumerate(depths):
            drop_paths = rates[sum(depths[:i]):sum(depths[:i + 1])]
            if i < CONV_STAGES:
                stage = ConvStage(dims[i], drop_paths, norm_cfg, with_cp)
            else:
                stage = HATStage(
                    dims[i], depth, self.arch['num_heads'][i], self.arch['window_sizes'][i],
                    self.arch['carrier_tokens'][i], self.arch['ct_size'],
                    self.arch['propagation'], self.arch['pretrain_img_size'] // 2**(i + 2),
                    carrier_token_mode, drop_paths, block_kwargs)
            self.stages.append(stage)
        self.downsamples = nn.ModuleList(Downsample(dims[i]) for i in range(NUM_STAGES - 1))
        self.out_norms = nn.ModuleDict(
            {str(i): build_norm_layer(out_norm_cfg, dims[i])[1] for i in out_indices})
        self._finish_init()

    @classmethod
    def _check_arch(cls, arch):
        for key in ('depths', 'num_heads', 'window_sizes', 'carrier_tokens'):
            if len(arch[key]) != NUM_STAGES:
                raise ValueError(f'FasterViT arch {key!r} needs {NUM_STAGES} entries, '
                                 f'got {arch[key]}')

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # Channels-last throughout: oneDNN's convolutions are faster on it, and the (B, H, W, C)
        # views of the attention stages and LayerNorms are free. Outputs are NCHW-contiguous.
        x = self.stem(x.contiguous(memory_format=torch.channels_last))
        outs = []
        for i, stage in enumerate(self.stages[:max(self.out_indices) + 1]):
            x = stage(x)
            if i in self.out_indices:
                outs.append(self.out_norms[str(i)](x).contiguous())
            if i < NUM_STAGES - 1:
                x = self.downsamples[i](x)
        return tuple(outs)

    def _no_weight_decay_parameters(self):
        exempt = (LayerScale, ContinuousPositionBias, GridPositionEmbedding)
        return [p for m in self.modules() if isinstance(m, exempt) for p in m.parameters()]

    def _init_layers(self):
        init_transformer_weights(self)

    def _frozen_modules(self):
        if self.frozen_stages >= 0:
            yield self.stem
        for i in range(self.frozen_stages):
            yield self.stages[i]
            if i < NUM_STAGES - 1:
                yield self.downsamples[i]
            if str(i) in self.out_norms:
                yield self.out_norms[str(i)]


# ----------------------------------------------------------------------------- checkpoints
# Official release names -> mmvitx names, applied in order (first match wins). Keys of the
# ImageNet classifier (`norm`, `head`) and the resolution-dependent buffers match no rule and are
# dropped.
_OFFICIAL_TO_MMVITX = [
    (r'^patch_embed\.conv_down\.0\.', 'stem.0.conv.'),
    (r'^patch_embed\.conv_down\.1\.', 'stem.0.bn.'),
    (r'^patch_embed\.conv_down\.3\.', 'stem.1.conv.'),
    (r'^patch_embed\.conv_down\.4\.', 'stem.1.bn.'),
    (r'^levels\.(\d)\.downsample\.norm\.', r'downsamples.\1.norm.'),
    (r'^levels\.(\d)\.downsample\.reduction\.0\.', r'downsamples.\1.conv.'),
    (r'^levels\.(\d)\.global_tokenizer\.to_global_feature\.pos\.', r'stages.\1.carrier_init.conv.'),
    (r'^levels\.(\d)\.blocks\.(\d+)\.(conv[12]|norm[12])\.', r'stages.\1.blocks.\2.\3.'),
    (r'^levels\.(\d)\.blocks\.(\d+)\.gamma1$', r'stages.\1.blocks.\2.ct_ls1.weight'),
    (r'^levels\.(\d)\.blocks\.(\d+)\.gamma2$', r'stages.\1.blocks.\2.ct_ls2.weight'),
    (r'^levels\.(\d)\.blocks\.(\d+)\.gamma3$', r'stages.\1.blocks.\2.ls1.weight'),
    (r'^levels\.(\d)\.blocks\.(\d+)\.gamma4$', r'stages.\1.blocks.\2.ls2.weight'),
    (r'^levels\.(\d)\.blocks\.(\d+)\.pos_embed\.cpb_mlp\.([02])\.',
     r'stages.\1.blocks.\2.window_pos.mlp.\3.'),
    (r'^levels\.(\d)\.blocks\.(\d+)\.hat_pos_embed\.cpb_mlp\.([02])\.',
     r'stages.\1.blocks.\2.ct_pos.mlp.\3.'),
    (r'^levels\.(\d)\.blocks\.(\d+)\.(hat_)?attn\.pos_emb_funct\.cpb_mlp\.([02])\.',
     lambda m: f'stages.{m[1]}.blocks.{m[2]}.{"ct_" if m[3] else ""}attn.cpb.mlp.{m[4]}.'),
    (r'^levels\.(\d)\.blocks\.(\d+)\.(hat_)?attn\.(qkv|proj)\.',
     lambda m: f'stages.{m[1]}.blocks.{m[2]}.{"ct_" if m[3] else ""}attn.{m[4]}.'),
    (r'^levels\.(\d)\.blocks\.(\d+)\.(hat_)?mlp\.(fc[12])\.',
     lambda m: f'stages.{m[1]}.blocks.{m[2]}.{"ct_" if m[3] else ""}ffn.{m[4]}.'),
    (r'^levels\.(\d)\.blocks\.(\d+)\.hat_norm([12])\.', r'stages.\1.blocks.\2.ct_norm\3.'),
    (r'^levels\.(\d)\.blocks\.(\d+)\.norm([12])\.', r'stages.\1.blocks.\2.norm\3.'),
]


@register_converter('fastervit')
def convert_fastervit(state_dict: dict) -> OrderedDict:
    """Official FasterViT weights (``levels.N...``) -> mmvitx ``FasterViT``.

    The ImageNet classifier (``norm``, ``head``) and the buffers whose shapes depend on the
    resolution the official model was built for (``relative_bias``, ``relative_coords_table``,
    ``relative_position_index``) are dropped: mmvitx recomputes those terms for every input size.
    The official any-resolution models built for a non-square input have no carrier-token position
    embedding (``hat_pos_embed``): their blocks get one whose output layer is zero, i.e. no term,
    as in the official model. Checkpoints already in mmvitx's layout pass through unchanged.
    """
    if any(key.startswith('stages.') for key in state_dict):
        return OrderedDict(state_dict)
    converted = OrderedDict()
    for key, value in state_dict.items():
        key = re.sub(r'^(module|encoder)\.', '', key)
        for pattern, repl in _OFFICIAL_TO_MMVITX:
            new_key, count = re.subn(pattern, repl, key, count=1)
            if count:
                converted[new_key] = value
                break
    for window_key in [k for k in converted if k.endswith('.window_pos.mlp.0.weight')]:
        block = window_key[:-len('window_pos.mlp.0.weight')]
        norm = converted.get(block + 'ct_norm1.weight')
        if norm is not None and block + 'ct_pos.mlp.2.weight' not in converted:
            # The first layer is the block's window-position one (a trained encoder of the same
            # kind of coordinates), so that fine-tuning can still learn the term.
            for name in ('mlp.0.weight', 'mlp.0.bias'):
                converted[f'{block}ct_pos.{name}'] = converted[f'{block}window_pos.{name}'].clone()
            converted[f'{block}ct_pos.mlp.2.weight'] = norm.new_zeros(
                norm.shape[0], converted[window_key].shape[0])
    return converted
