"""CrossViT (Chen, Fan, Panda, "CrossViT: Cross-Attention Multi-Scale Vision Transformer for Image
Classification", ICCV 2021, arXiv 2103.14899; IBM/CrossViT ``models/crossvit.py``) as a dense
backbone.

The paper runs two ViT branches on one image: the S-branch (fine patches of 12 pixels on the
240-pixel input, the smaller width, one block per encoder) and the L-branch (coarse patches of 16
on the input resized to 224, twice the width, 3 to 6 blocks per encoder), each with its class
token and learned position table. Three multi-scale encoders each run both branches' blocks and
then let the branches exchange through their class tokens only: a branch's class token is
projected to the other branch's width (LayerNorm, GELU, Linear), attends as the only query over
itself and the other branch's patch tokens (cross-attention: LayerNorm, separate query, key and
value Linears with bias, an output Linear, a residual on the class token, no MLP), and is
projected back (LayerNorm, GELU, Linear). The classifier averages two heads on the class tokens
after a final LayerNorm per branch. The dagger presets embed the patches with three convolutions
and ReLUs between them (7x7 stride 4 to D/4, 3x3 to D/2, 3x3 to D; strides 3 and 1 for patches
of 12, 2 and 2 for patches of 16) instead of one patch convolution.

Dense use: both branches take the same image, of any size. The S-branch sees it as it is,
zero-padded to a multiple of 12 on the bottom and right; the L-branch sees it resized bicubically
by the pretraining ratio (224 / 240; 384 / 408 for the ``-408`` presets) to the nearest pixel,
then zero-padded to a multiple of 16. Each position table keeps its pretraining shape (with the
class row, so release checkpoints load unchanged) and is resized bicubically to its branch's
actual, possibly non-square, grid. The outputs are the two branches' patch tokens after the last
encoder's blocks: a (B, D_S, ceil(H / 12), ceil(W / 12)) and a (B, D_L, ceil(H' / 16),
ceil(W' / 16)) map (H' x W': the resized input), of strides 12 and 16 in their own branch images
(12 and 16 x 240 / 224 in the input: ``branch_strides``). ``MultiBranchFeaturePyramid``
(``mmvitx.models.necks``) turns them into strides 4 to 32.

What is kept and dropped, and why:

- the class tokens stay in the blocks and in every fusion: they are the only path between the
  branches, and every patch token attends to its branch's class token in the pretrained model;
- the last encoder's fusion (its projections and cross-attentions): it updates only the class
  tokens, after the last blocks, so nothing it computes can reach a dense output;
- the heads (``head.0``, ``head.1``); the final LayerNorms (``norm.0``, ``norm.1``) are applied to
  the outputs only with ``final_norm=True``.
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

from ..layers import ceil_div, gelu_linear, inplace_add, pad_to_multiple, resize_abs_pos_embed
from ..pretrained import register_converter
from .base import (DenseBackbone, check_outputs_and_freezing, init_transformer_weights,
                   register_backbone)
from .vit import BASE_ARCH, PatchEmbed, PlainBlock

# Per branch (S, L): widths, blocks per encoder, heads and MLP ratio (IBM/CrossViT
# models/crossvit.py; timm's crossvit_*_240 / _408, which name the official _224 / _384 weights
# after their S-branch input).
arch_zoo = {
    'ti': dict(embed_dims=(96, 192), depths=(1, 4), num_heads=3, mlp_ratio=4),
    's': dict(embed_dims=(192, 384), depths=(1, 4), num_heads=6, mlp_ratio=4),
    'b': dict(embed_dims=(384, 768), depths=(1, 4), num_heads=12, mlp_ratio=4),
    '9': dict(embed_dims=(128, 256), depths=(1, 3), num_heads=4, mlp_ratio=3),
    '15': dict(embed_dims=(192, 384), depths=(1, 5), num_heads=6, mlp_ratio=3),
    '18': dict(embed_dims=(224, 448), depths=(1, 6), num_heads=7, mlp_ratio=3),
    '9-dagger': dict(embed_dims=(128, 256), depths=(1, 3), num_heads=4, mlp_ratio=3,
                     conv_stem=True),
    '15-dagger': dict(embed_dims=(192, 384), depths=(1, 5), num_heads=6, mlp_ratio=3,
                      conv_stem=True),
    '18-dagger': dict(embed_dims=(224, 448), depths=(1, 6), num_heads=7, mlp_ratio=3,
                      conv_stem=True),
    '15-dagger-408': dict(embed_dims=(192, 384), depths=(1, 5), num_heads=6, mlp_ratio=3,
                          conv_stem=True, pretrain_img_sizes=(408, 384)),
    '18-dagger-408': dict(embed_dims=(224, 448), depths=(1, 6), num_heads=7, mlp_ratio=3,
                          conv_stem=True, pretrain_img_sizes=(408, 384)),
}
arch_aliases = {'tiny': 'ti', 't': 'ti', 'small': 's', 'base': 'b',
                # the official release's names (by the L-branch input)
                '9-224': '9', '15-224': '15', '18-224': '18',
                '9-dagger-224': '9-dagger', '15-dagger-224': '15-dagger',
                '18-dagger-224': '18-dagger', '15-dagger-384': '15-dagger-408',
                '18-dagger-384': '18-dagger-408'}
arch_defaults = dict(
    mlp_ratio=4,  # a number, or one per branch
    num_encoders=3,
    patch_sizes=(12, 16),
    # The branches' pretraining input sizes; the L-branch's image is the S-branch's resized by
    # their ratio.
    pretrain_img_sizes=(240, 224),
    conv_stem=False,  # the dagger presets' three-convolution patch embedding
)
# The strides of the dagger stem's second and third convolutions (the first is 7x7 stride 4).
CONV_STEM_STRIDES = {12: (3, 1), 16: (2, 2)}
# The arch keys with one value per branch (num_heads and mlp_ratio may be one for all).
PER_BRANCH = ('embed_dims', 'depths', 'num_heads', 'mlp_ratio', 'patch_sizes',
              'pretrain_img_sizes')


class ConvPatchEmbed(nn.Module):
    """The dagger presets' patch embedding: a 7x7 stride-4 convolution to D/4 channels, ReLU, a
    3x3 convolution to D/2, ReLU, a 3x3 convolution to D, all with bias; strides 3 (no padding)
    and 1 for patches of 12, 2 and 2 for patches of 16. On an input that is a multiple of the
    patch its grid is the patch grid. Named as in the official code (``proj.0``, ``proj.2``,
    ``proj.4``)."""

    def __init__(self, in_channels: int, dims: int, patch_size: int):
        super().__init__()
        second, third = CONV_STEM_STRIDES[patch_size]
        self.proj = nn.Sequential(
            nn.Conv2d(in_channels, dims // 4, 7, 4, 3), nn.ReLU(inplace=True),
            nn.Conv2d(dims // 4, dims // 2, 3, second, 0 if second == 3 else 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(dims // 2, dims, 3, third, 1))

    def forward(self, x):
        return self.proj(x)


class ClassTokenCrossAttention(nn.Module):
    """Multi-head attention of one query, the first token, over all the tokens (B, N, C) ->
    (B, 1, C): separate query, key and value Linears (with bias), then an output Linear."""

    def __init__(self, dims: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.wq = nn.Linear(dims, dims)
        self.wk = nn.Linear(dims, dims)
        self.wv = nn.Linear(dims, dims)
        self.proj = nn.Linear(dims, dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, num_tokens, channels = x.shape
        heads = self.num_heads
        q = self.wq(x[:, :1]).view(batch, 1, heads, -1).transpose(1, 2)
        k = self.wk(x).view(batch, num_tokens, heads, -1).transpose(1, 2)
        v = self.wv(x).view(batch, num_tokens, heads, -1).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(batch, 1, channels))


class TokenProjection(nn.Module):
    """LayerNorm, GELU, Linear: a class token from one branch's width to the other's."""

    def __init__(self, in_dims: int, out_dims: int):
        super().__init__()
        self.norm = nn.LayerNorm(in_dims, eps=1e-6)
        self.fc = nn.Linear(in_dims, out_dims)

    def forward(self, x):
        return gelu_linear(self.norm(x), self.fc)


class ClassTokenFusion(nn.Module):
    """One branch's class token (B, 1, D) meeting the other branch's patch tokens (B, N, D'):
    projected to D' (``project``), it attends over itself and them (``norm``, ``attn``, with a
    residual and drop path), and returns projected back to D (``project_back``)."""

    def __init__(self, dims: int, other_dims: int, other_heads: int, drop_path: float,
                 with_cp: bool):
        super().__init__()
        self.with_cp = with_cp
        self.project = TokenProjection(dims, other_dims)
        self.norm = nn.LayerNorm(other_dims, eps=1e-6)
        self.attn = ClassTokenCrossAttention(other_dims, other_heads)
        self.project_back = TokenProjection(other_dims, dims)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def _forward(self, cls_token, other_patches):
        query = self.project(cls_token)
        tokens = torch.cat([query, other_patches], dim=1)
        return self.project_back(query + self.drop_path(self.attn(self.norm(tokens))))

    def forward(self, cls_token: torch.Tensor, other_patches: torch.Tensor) -> torch.Tensor:
        if self.with_cp and (cls_token.requires_grad or other_patches.requires_grad):
            return cp.checkpoint(self._forward, cls_token, other_patches, use_reentrant=False)
        return self._forward(cls_token, other_patches)


class MultiScaleEncoder(nn.Module):
    """One multi-scale encoder: each branch's ViT blocks (``blocks[b]``, on its class token and
    patch tokens), then, with ``fuse``, each branch's :class:`ClassTokenFusion` with the next
    branch (``fusions[b]``), from the blocks' outputs of both. ``built`` says which branches'
    blocks exist (the last encoder skips those of branches not output)."""

    def __init__(self, arch: dict, drop_paths: list[float], fuse: bool, built: tuple[bool, ...],
                 with_cp: bool):
        super().__init__()
        dims, heads = arch['embed_dims'], arch['num_heads']
        num_branches = len(dims)
        self.blocks = nn.ModuleList(
            nn.ModuleList(
                PlainBlock(dims[b], heads[b], dict(BASE_ARCH, mlp_ratio=arch['mlp_ratio'][b]),
                           False, drop_path=drop_paths[j], with_cp=with_cp)
                for j in range(arch['depths'][b] if built[b] else 0))
            for b in range(num_branches))
        others = [(b + 1) % num_branches for b in range(num_branches)]
        self.fusions = nn.ModuleList(
            ClassTokenFusion(dims[b], dims[o], heads[o], drop_paths[-1], with_cp)
            for b, o in enumerate(others)) if fuse else None

    def forward(self, xs: list[torch.Tensor], sizes: list[tuple[int, int]]) -> list[torch.Tensor]:
        for b, blocks in enumerate(self.blocks):
            for block in blocks:
                xs[b] = block(xs[b], sizes[b], 1)
        if self.fusions is None:
            return xs
        # Both fusions read the blocks' outputs; only the class tokens change.
        cls_tokens = [fusion(xs[b][:, :1], xs[(b + 1) % len(xs)][:, 1:])
                      for b, fusion in enumerate(self.fusions)]
        return [torch.cat([cls_token, x[:, 1:]], dim=1) for cls_token, x in zip(cls_tokens, xs)]


def _per_branch(value, num_branches: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, ) * num_branches


@register_backbone
class CrossViT(DenseBackbone):
    """CrossViT (`arXiv 2103.14899 <https://arxiv.org/abs/2103.14899>`_) as a dense backbone:
    the S-branch's and the L-branch's patch tokens after the last multi-scale encoder, as two
    maps (see the module docstring for what the paper does and what is kept and why).

    Presets (IBM/CrossViT ``models/crossvit.py``): Ti ``'ti'``, S ``'s'``, B ``'b'``, ``'9'``,
    ``'15'``, ``'18'``, the dagger presets ``'9-dagger'``, ``'15-dagger'``, ``'18-dagger'`` and
    those pretrained at 408 (S-branch; 384 L-branch) ``'15-dagger-408'``, ``'18-dagger-408'``.

    Args:
        arch: a preset name, or a dict with ``embed_dims`` and ``depths`` (one per branch, S
            first), ``num_heads`` (a number, or one per branch) and optionally the keys of
            ``arch_defaults``.
        in_channels: input image channels.
        out_indices: the branches to output: 0 the S-branch (stride 12), 1 the L-branch (stride
            16 in its resized image). The last encoder's blocks of a branch not output are not
            built.
        final_norm: apply the release's final LayerNorm of each output branch to its patch
            tokens.
        pretrain_img_size: the S-branch's pretraining input size (int, or (H, W)) that the
            position tables are sized for (the L-branch's is the arch's ratio of it); None: the
            arch's.
        drop_path_rate: stochastic depth, linear over the positions of the blocks in the deeper
            branch (block j of either branch in encoder k at position k * depth + j, each fusion
            at its encoder's last position), as in the official code.
        frozen_stages: freeze the patch embeddings, class tokens and position tables (0) and
            encoders 1..k (the last with the final and output norms); -1 freezes nothing.
        norm_eval: keep BatchNorm layers in eval mode (CrossViT has none; an ``out_norm_cfg`` BN
            would be one).
        with_cp: activation checkpointing of every block and fusion.
        out_norm_cfg: a norm applied to each output map (e.g. ``dict(type='LN2d', eps=1e-6)``),
            or None (default): the tokens as they are.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH)`` loads a local checkpoint
            (official, timm or mmvitx layout, converted on load).
    """

    family = 'crossvit'
    arch_zoo = arch_zoo
    arch_aliases = arch_aliases
    default_arch = '15-dagger'
    arch_required = frozenset({'embed_dims', 'depths', 'num_heads'})
    arch_defaults = arch_defaults
    level_strides = arch_defaults['patch_sizes']
    num_stages = arch_defaults['num_encoders']
    no_weight_decay_keys = ('pos_embed', 'cls_token')
    reference = 'mmvitx.testing.references:build_crossvit_pair'
    keys_missing_from_release = (r'out_norms\.', )
    pretrain_size_keys = (r'pos_embed\.\d+$', )

    def __init__(self,
                 arch: str | dict = default_arch,
                 in_channels: int = 3,
                 out_indices: tuple[int, ...] = (0, 1),
                 final_norm: bool = False,
                 pretrain_img_size: int | tuple[int, int] | None = None,
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 out_norm_cfg: dict | None = None,
                 init_cfg: dict | None = None):
        super().__init__(init_cfg=init_cfg)
        self.arch = self.resolve_arch(arch)
        dims, patches = self.arch['embed_dims'], self.arch['patch_sizes']
        num_branches, num_encoders = len(dims), self.arch['num_encoders']
        self.level_strides = patches
        self.num_stages = num_encoders
        self.out_indices = check_outputs_and_freezing(out_indices, frozen_stages, unit='branch',
                                                      num=num_branches, num_stages=num_encoders)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.num_features = dims
        sizes = self.arch['pretrain_img_sizes']
        # Each branch map's stride in the input: the L-branch's image is the input resized.
        self.branch_strides = tuple(patch * sizes[0] / size for patch, size in zip(patches, sizes))

        pretrain_img_size = pretrain_img_size or sizes[0]
        if isinstance(pretrain_img_size, int):
            pretrain_img_size = (pretrain_img_size, pretrain_img_size)
        self.pretrain_grids = [
            tuple(side // patch for side in self._branch_image_size(*pretrain_img_size, b))
            for b, patch in enumerate(patches)]
        stem = ConvPatchEmbed if self.arch['conv_stem'] else PatchEmbed
        self.patch_embed = nn.ModuleList(
            stem(in_channels, dim, patch) for dim, patch in zip(dims, patches))
        self.cls_token = nn.ParameterList(nn.Parameter(torch.zeros(1, 1, dim)) for dim in dims)
        self.pos_embed = nn.ParameterList(
            nn.Parameter(torch.zeros(1, 1 + grid[0] * grid[1], dim))
            for dim, grid in zip(dims, self.pretrain_grids))

        # Layers of the deeper branch per encoder: the positions of drop path and of layer decay.
        self.encoder_depth = max(self.arch['depths'])
        rates = torch.linspace(0, drop_path_rate, num_encoders * self.encoder_depth,
                               device='cpu').tolist()
        self.encoders = nn.ModuleList()
        for k in range(num_encoders):
            last = k == num_encoders - 1
            built = tuple(not last or b in self.out_indices for b in range(num_branches))
            self.encoders.append(MultiScaleEncoder(
                self.arch, rates[k * self.encoder_depth:(k + 1) * self.encoder_depth],
                fuse=not last, built=built, with_cp=with_cp))
        self.norm = nn.ModuleDict(
            {str(b): nn.LayerNorm(dims[b], eps=1e-6) for b in self.out_indices}
            if final_norm else {})
        self.out_norms = nn.ModuleDict(
            {str(b): build_norm_layer(out_norm_cfg, dims[b])[1] for b in self.out_indices}
            if out_norm_cfg else {})
        self._finish_init()

    @classmethod
    def resolve_arch(cls, arch: str | dict) -> dict:
        resolved = super().resolve_arch(arch)
        num_branches = len(resolved['embed_dims'])
        resolved.update({key: _per_branch(resolved[key], num_branches) for key in PER_BRANCH})
        return resolved

    @classmethod
    def _check_arch(cls, arch):
        num_branches = len(_per_branch(arch['embed_dims'], 1))
        lengths = {key: len(_per_branch(arch[key], num_branches)) for key in PER_BRANCH}
        if num_branches < 2 or set(lengths.values()) != {num_branches}:
            raise ValueError(f'{cls.__name__} arch needs two or more branches and one value per '
                             f'branch for each of {list(lengths)}, got {lengths}')
        heads = _per_branch(arch['num_heads'], num_branches)
        if any(dim % head for dim, head in zip(arch['embed_dims'], heads)):
            raise ValueError(f'{cls.__name__} arch embed_dims {arch["embed_dims"]} must be '
                             f'divisible by num_heads {heads}')
        if arch['conv_stem'] and (set(arch['patch_sizes']) - set(CONV_STEM_STRIDES)
                                  or any(dim % 4 for dim in arch['embed_dims'])):
            raise ValueError(f'{cls.__name__} arch conv_stem (the dagger stem) takes patch sizes '
                             f'{sorted(CONV_STEM_STRIDES)} and widths divisible by 4, got '
                             f'{arch["patch_sizes"]} and {arch["embed_dims"]}')
        if arch['num_encoders'] < 1:
            raise ValueError(f'{cls.__name__} arch num_encoders must be at least 1, got '
                             f'{arch["num_encoders"]}')

    @classmethod
    def pretrain_img_size_of(cls, state_dict: dict) -> int | None:
        # The S-branch's table: a class row and a square grid of its pretraining size.
        pos_embed = state_dict.get('pos_embed.0')
        if pos_embed is None:
            return None
        grid = math.isqrt(pos_embed.shape[1] - 1)
        if grid * grid != pos_embed.shape[1] - 1:
            return None
        # the patch convolution's size; the dagger stem's (``proj.0``) strides make 12 too
        proj = state_dict.get('patch_embed.0.proj.weight')
        return grid * (proj.shape[-1] if proj is not None else 12)

    def _branch_image_size(self, height: int, width: int, branch: int) -> tuple[int, int]:
        """The size of branch ``branch``'s image for an input of ``height`` x ``width``: scaled
        by the branches' pretraining ratio, rounded to the nearest pixel (the ratios 224 / 240
        and 384 / 408 never give a half; the result is at least 1). Integer arithmetic, which a
        traced graph keeps for any size."""
        sizes = self.arch['pretrain_img_sizes']
        if branch == 0:
            return height, width
        return tuple((side * sizes[branch] + sizes[0] // 2) // sizes[0]
                     for side in (height, width))

    def out_sizes(self, height: int, width: int) -> list[tuple[int, int]]:
        return [tuple(ceil_div(side, self.level_strides[b])
                      for side in self._branch_image_size(height, width, b))
                for b in self.out_indices]

    def _tokens(self, x: torch.Tensor, branch: int):
        """Branch ``branch``'s (B, 1 + H * W, C) tokens of image ``x``, with their positions, and
        (H, W)."""
        patch = self.level_strides[branch]
        if branch:
            size = self._branch_image_size(*x.shape[-2:], branch)
            x = F.interpolate(x, size=size, mode='bicubic', align_corners=False)
        height, width = x.shape[-2:]
        x = F.pad(x, (0, pad_to_multiple(width, patch), 0, pad_to_multiple(height, patch)))
        x = self.patch_embed[branch](x)
        size = tuple(x.shape[-2:])
        pos = resize_abs_pos_embed(self.pos_embed[branch], 1, self.pretrain_grids[branch], size)
        tokens = torch.cat([self.cls_token[branch].expand(x.shape[0], -1, -1),
                            x.flatten(2).transpose(1, 2)], dim=1)
        return inplace_add(tokens, pos), size

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        xs, sizes = zip(*(self._tokens(x, b) for b in range(len(self.patch_embed))))
        xs = list(xs)
        for encoder in self.encoders:
            xs = encoder(xs, sizes)
        outs = []
        for b in self.out_indices:
            patches = xs[b][:, 1:]
            if str(b) in self.norm:
                patches = self.norm[str(b)](patches)
            out = patches.transpose(1, 2).reshape(x.shape[0], -1, *sizes[b])
            if str(b) in self.out_norms:
                out = self.out_norms[str(b)](out)
            outs.append(out.contiguous())
        return tuple(outs)

    def _no_weight_decay_parameters(self):
        return [*self.pos_embed, *self.cls_token]

    def _init_layers(self):
        init_transformer_weights(self, (*self.pos_embed, *self.cls_token))

    def keys_not_built(self) -> tuple[str, ...]:
        last = len(self.encoders) - 1
        keys = [rf'encoders\.{last}\.fusions\.']
        for b in range(len(self.num_features)):
            if b not in self.out_indices:
                keys.append(rf'encoders\.{last}\.blocks\.{b}\.')
            if str(b) not in self.norm:
                keys.append(rf'norm\.{b}\.')
        return tuple(keys)

    @property
    def num_layers(self) -> int:
        """The layers of layer-wise learning-rate decay
        (``LayerwiseLRDecayOptimWrapperConstructor``): the deeper branch's blocks (3 x 5 = 15 in
        CrossViT-15, the number in its name)."""
        return len(self.encoders) * self.encoder_depth

    def layer_id(self, name: str) -> int:
        """The layer of a parameter for layer-wise learning-rate decay: 0 for the patch
        embeddings, class tokens and position tables; in encoder k, ``k * depth + j + 1`` for
        block j of either branch (the branches run side by side: a block shares the layer of
        the block at its position in the other branch, as it shares its drop-path rate) and
        ``(k + 1) * depth`` for the fusions (with the encoder's last blocks, which they follow);
        ``num_layers + 1`` for the rest (the final and output norms)."""
        if name.startswith(('patch_embed.', 'pos_embed.', 'cls_token.')):
            return 0
        if name.startswith('encoders.'):
            parts = name.split('.')
            encoder = int(parts[1])
            if parts[2] == 'blocks':
                return encoder * self.encoder_depth + int(parts[4]) + 1
            return (encoder + 1) * self.encoder_depth
        return self.num_layers + 1

    def _frozen_modules(self):
        if self.frozen_stages >= 0:
            yield self.patch_embed
            yield from self.cls_token
            yield from self.pos_embed
        for k in range(self.frozen_stages):
            yield self.encoders[k]
        if self.frozen_stages == len(self.encoders):
            yield self.norm
            yield self.out_norms


# ----------------------------------------------------------------------------- checkpoints
# The official files hold the tokens and tables in ParameterLists (``pos_embed.0``), which timm
# renames ``pos_embed_0``; mmvitx keeps the official names. The multi-scale encoders
# (``blocks.k``) become ``encoders.k``, with their branch blocks (``blocks.b.j``, timm's and
# mmvitx's ViT block names) and their fusions: ``projs.b.{0: LayerNorm, 2: Linear}``,
# ``fusion.b.{norm1, attn}`` and ``revert_projs.b.{0, 2}`` -> ``fusions.b.{project, norm, attn,
# project_back}``. The heads are dropped.
_TOKENS = re.compile(r'^(pos_embed|cls_token)_(\d+)$')
_ENCODER_RENAMES = [(re.compile(pattern), replacement) for pattern, replacement in (
    (r'^blocks\.(\d+)\.blocks\.', r'encoders.\1.blocks.'),
    (r'^blocks\.(\d+)\.projs\.(\d+)\.0\.', r'encoders.\1.fusions.\2.project.norm.'),
    (r'^blocks\.(\d+)\.projs\.(\d+)\.2\.', r'encoders.\1.fusions.\2.project.fc.'),
    (r'^blocks\.(\d+)\.fusion\.(\d+)\.norm1\.', r'encoders.\1.fusions.\2.norm.'),
    (r'^blocks\.(\d+)\.fusion\.(\d+)\.attn\.', r'encoders.\1.fusions.\2.attn.'),
    (r'^blocks\.(\d+)\.revert_projs\.(\d+)\.0\.', r'encoders.\1.fusions.\2.project_back.norm.'),
    (r'^blocks\.(\d+)\.revert_projs\.(\d+)\.2\.', r'encoders.\1.fusions.\2.project_back.fc.'),
)]


@register_converter('crossvit', source="CrossViT's official files (IBM/CrossViT releases) or "
                   "timm's crossvit_* weights")
def convert_crossvit(state_dict: dict) -> OrderedDict:
    """Official (``pos_embed.0``) or timm (``pos_embed_0``) CrossViT weights -> mmvitx CrossViT:
    the multi-scale encoders renamed (see above), the heads dropped. Idempotent on mmvitx
    checkpoints."""
    converted = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith('head.'):
            continue
        key = _TOKENS.sub(r'\1.\2', key)
        for pattern, replacement in _ENCODER_RENAMES:
            key = pattern.sub(replacement, key)
        converted[key] = value
    return converted
