"""TNT (Transformer in Transformer; Han et al., NeurIPS 2021, arXiv 2103.00112) as a dense backbone.

TNT cuts each 16 x 16 patch into 4 x 4 "visual words" of c channels (a 7 x 7 stride-4 convolution
over the patch, plus an inner position table shared by all patches) and runs two transformers per
block: an inner one over each patch's 16 words, whose result is folded into the patch's token
(LayerNorm over the 16 c values, Linear to D, LayerNorm, added), and an outer one, a ViT block over
the class and patch tokens. Inner and outer blocks are ViT blocks without qkv bias
(:class:`~mmvitx.models.backbones.vit.PlainBlock`; the official separate ``qk`` and ``v``
projections are one ``qkv`` here), so TNT is a :class:`~mmvitx.models.backbones.vit.PlainViT`
whose stem makes words and patch tokens and whose block (:class:`TNTBlock`) is a ViT block (the
outer one) preceded by the inner block and the fold. Presets (huawei-noah/Efficient-AI-Backbones
``tnt_pytorch/tnt.py``): TNT-S (D 384, 6 heads; c 24) and TNT-B (D 640, 10 heads; c 40), 4 inner
heads, MLP ratio 4, 12 blocks. ``'s-legacy'`` is the structure of timm's earlier port
(``tnt_s_legacy_patch16_224``, which mmpretrain's TNT follows): the stem convolves the whole image
before cutting it into words (a word then sees pixels across its patch's border), and a block's
fold is a LayerNorm per word then a Linear with bias, without the LayerNorm after it.

Dense use, as the other plain ViTs (:class:`~mmvitx.models.backbones.vit.PlainViT`): the patch
tokens after any block are a stride-16 map (``out_indices`` indexes blocks); the input is
zero-padded to a multiple of 16 on the bottom and right, so the maps are ``ceil(size / 16)``; the
outer position table keeps its pretraining shape (with the class row) and is resized bicubically
to the actual, possibly non-square, grid, while the inner table belongs to the 4 x 4 words of one
patch and fits any input as it is. ViTDet's window attention and decomposed relative positions
apply to the outer blocks (the inner ones attend within one patch already); they need
``with_cls_token=False``.

What is dropped, and why:

- the classifier head, and the final LayerNorm unless ``final_norm=True`` (as in PlainViT);
- the class token from the outputs only: it stays in the outer blocks by default, because every
  patch token attends to it in the pretrained model (the fold skips it); ``with_cls_token=False``
  removes it (ViTDet), its row of the outer table stays, unused;
- the official code's ``outer_tokens``, a frozen parameter it never uses;
- the words as an output: after each block they form a stride-4 map of c channels (4 x 4 words per
  patch), a free high-resolution feature that no recipe here reads.
"""
import math
import re
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmengine.model.weight_init import trunc_normal_

from ..layers import pad_to_multiple
from ..pretrained import register_converter
from .vit import _VIT_DEFAULTS, _VITDET_VARIANT, PlainBlock, PlainViT, _family


class WordFold(nn.Module):
    """TNT's projection of a patch's words (B * N, W, c) to one token per patch (B, N, D): a
    LayerNorm over the patch's W c values, a Linear (``bias``: the stem's has one, the blocks'
    not) and a LayerNorm. ``legacy``: a LayerNorm per word, then a Linear with bias, nothing
    after."""

    def __init__(self, inner_dims: int, num_words: int, dims: int, bias: bool = False,
                 legacy: bool = False, eps: float = 1e-5):
        super().__init__()
        self.legacy = legacy
        self.norm1 = nn.LayerNorm(inner_dims if legacy else num_words * inner_dims, eps=eps)
        self.proj = nn.Linear(num_words * inner_dims, dims, bias=bias or legacy)
        self.norm2 = None if legacy else nn.LayerNorm(dims, eps=eps)

    def forward(self, words: torch.Tensor, batch: int) -> torch.Tensor:
        if self.legacy:
            return self.proj(self.norm1(words).reshape(batch, -1, self.proj.in_features))
        return self.norm2(self.proj(self.norm1(words.reshape(batch, -1, self.proj.in_features))))


class WordEmbed(nn.Module):
    """TNT's stem: the padded image -> the words (B * N, W, c) of its N patches, their patch tokens
    (B, N, D) and the (H, W) patch grid.

    Each p x p patch is convolved on its own (7 x 7, stride s, zero padding 3, with bias: one
    batched convolution over all patches) into (p / s)^2 = W words of c channels, to which the
    inner position table ``inner_pos`` (1, W, c) is added; a :class:`WordFold` (with bias) makes
    the patch tokens. ``legacy``: the convolution runs over the whole image, whose map is then cut
    into the patches' words.
    """

    def __init__(self, in_channels: int, dims: int, inner_dims: int, patch_size: int,
                 inner_stride: int, legacy: bool = False, eps: float = 1e-5):
        super().__init__()
        self.patch_size = patch_size
        self.words_per_side = patch_size // inner_stride
        self.legacy = legacy
        num_words = self.words_per_side**2
        self.proj = nn.Conv2d(in_channels, inner_dims, 7, inner_stride, 3)
        self.inner_pos = nn.Parameter(torch.zeros(1, num_words, inner_dims))
        self.fold = WordFold(inner_dims, num_words, dims, bias=True, eps=eps)

    def forward(self, x: torch.Tensor):
        batch, channels, height, width = x.shape
        patch, side = self.patch_size, self.words_per_side
        grid = (height // patch, width // patch)
        if self.legacy:
            x = self.proj(x)
            x = x.reshape(batch, -1, grid[0], side, grid[1], side).permute(0, 2, 4, 3, 5, 1)
            words = x.reshape(-1, side * side, x.shape[-1]) + self.inner_pos
        else:
            patches = x.reshape(batch, channels, grid[0], patch, grid[1], patch).permute(
                0, 2, 4, 1, 3, 5).reshape(-1, channels, patch, patch)
            # The table first: the sum takes its (word, channel) layout, contiguous, without a
            # copy of the convolution's transposed output.
            words = self.inner_pos + self.proj(patches).flatten(2).transpose(1, 2)
        return words, self.fold(words, batch), grid


class TNTBlock(PlainBlock):
    """A TNT block: the inner transformer (a ViT block, ``inner``) over each patch's words, all
    patches in one batch (B * N, W, c), the fold of its words into each patch token (``fold``),
    then the outer transformer over the tokens: this block's own ViT block (norms, attention, MLP,
    with window attention and relative positions where asked). Drop path applies to the inner
    branches too (per patch), as in the official code. Arguments as :class:`PlainBlock`'s, the
    inner width and heads from ``arch``.
    """

    def __init__(self, dims: int, num_heads: int, arch: dict, transform: bool,
                 window_size: int = 0, rel_pos_length: int | None = None, drop_path: float = 0.,
                 drop_rate: float = 0., attn_drop_rate: float = 0., with_cp: bool = False,
                 norm_cfg: dict = dict(type='BN'), attention: str | None = None):
        super().__init__(dims, num_heads, arch, transform, window_size, rel_pos_length,
                         drop_path, drop_rate, attn_drop_rate, with_cp, norm_cfg, attention)
        side = arch['patch_size'] // arch['inner_stride']
        self.word_grid = (side, side)
        self.inner = PlainBlock(arch['inner_dims'], arch['inner_heads'], arch, False,
                                drop_path=drop_path, drop_rate=drop_rate,
                                attn_drop_rate=attn_drop_rate)
        self.fold = WordFold(arch['inner_dims'], side * side, dims, legacy=arch['legacy'],
                             eps=arch['norm_eps'])

    def _forward_words_and_tokens(self, words, x, size, num_prefix):
        words = self.inner(words, self.word_grid)
        folded = self.fold(words, x.shape[0])
        if num_prefix:
            x = torch.cat([x[:, :num_prefix], x[:, num_prefix:] + folded], dim=1)
        else:
            x = x + folded
        return words, self._forward(x, size, num_prefix)

    def forward(self, words: torch.Tensor, x: torch.Tensor, size: tuple[int, int],
                num_prefix: int = 0):
        """(B * N, W, c) words and (B, prefix + N, D) tokens -> both after the block."""
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward_words_and_tokens, words, x, size, num_prefix,
                                 use_reentrant=False)
        return self._forward_words_and_tokens(words, x, size, num_prefix)


@_family
class TNT(PlainViT):
    """TNT (`arXiv 2103.00112 <https://arxiv.org/abs/2103.00112>`_) as a dense backbone: see the
    module docstring. Presets: ``'s'`` (TNT-S), ``'s-legacy'`` (TNT-S in timm's earlier
    structure) and ``'b'`` (TNT-B); an arch dict also takes ``inner_dims`` (c, required),
    ``inner_heads``, ``inner_stride`` (the words' stride, dividing ``patch_size``) and ``legacy``.
    Weights: the official releases (huawei-noah/Efficient-AI-Backbones) or timm's ``tnt_*``,
    converted on load. See :class:`~mmvitx.models.backbones.vit.PlainViT` for the arguments;
    ``frozen_stages=0`` freezes the stem (word convolution, inner table, stem fold), the class
    token and the outer table.
    """

    family = 'tnt'
    arch_zoo = {
        's': dict(embed_dims=384, depth=12, num_heads=6, inner_dims=24),
        's-legacy': dict(embed_dims=384, depth=12, num_heads=6, inner_dims=24, legacy=True),
        'b': dict(embed_dims=640, depth=12, num_heads=10, inner_dims=40),
    }
    arch_aliases = {'small': 's', 'base': 'b', 'tnt_s_patch16_224': 's',
                    'tnt_b_patch16_224': 'b', 'tnt_s_legacy_patch16_224': 's-legacy'}
    default_arch = 's'
    arch_required = PlainViT.arch_required | {'inner_dims'}
    arch_defaults = dict(_VIT_DEFAULTS, qkv_bias=False, inner_heads=4, inner_stride=4,
                         legacy=False)
    fixed_arch = dict(norm_eps=1e-5)  # torch's default, as in the official code
    block_cls = TNTBlock
    no_weight_decay_keys = ('pos_embed', 'inner_pos', 'cls_token', 'rel_pos_h', 'rel_pos_w')
    variants = _VITDET_VARIANT
    reference = 'mmvitx.testing.references:build_tnt_pair'

    @classmethod
    def _check_arch(cls, arch):
        super()._check_arch(arch)
        if arch['inner_dims'] % arch['inner_heads']:
            raise ValueError(f'{cls.__name__} arch inner_dims ({arch["inner_dims"]}) must be '
                             f'divisible by inner_heads ({arch["inner_heads"]})')
        if arch['patch_size'] % arch['inner_stride']:
            raise ValueError(f'{cls.__name__} arch inner_stride ({arch["inner_stride"]}) must '
                             f'divide patch_size ({arch["patch_size"]})')

    @classmethod
    def pretrain_img_size_of(cls, state_dict: dict) -> int | None:
        # The outer table holds the class row and a square grid; a patch is as many words per
        # side as the inner table's rows give, at the release's inner stride.
        pos_embed = state_dict.get('pos_embed')
        inner_pos = state_dict.get('patch_embed.inner_pos')
        if pos_embed is None or inner_pos is None:
            return None
        grid = math.isqrt(pos_embed.shape[1] - 1)
        if grid * grid != pos_embed.shape[1] - 1:
            return None
        return grid * math.isqrt(inner_pos.shape[1]) * cls.arch_defaults['inner_stride']

    def _build_patch_embed(self, in_channels: int, norm_cfg: dict) -> nn.Module:
        arch = self.arch
        return WordEmbed(in_channels, arch['embed_dims'], arch['inner_dims'], arch['patch_size'],
                         arch['inner_stride'], arch['legacy'], arch['norm_eps'])

    def _tokens(self, x: torch.Tensor):
        """Image -> the (B * N, W, c) words, the (B, prefix + N, D) tokens with their positions,
        and the (H, W) grid of the N patches."""
        height, width = x.shape[-2:]
        patch = self.patch_size
        x = F.pad(x, (0, pad_to_multiple(width, patch), 0, pad_to_multiple(height, patch)))
        words, x, size = self.patch_embed(x)
        return words, self._add_positions(x, size), size

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        words, x, size = self._tokens(x)
        outs = []
        for i, block in enumerate(self.blocks):
            words, x = block(words, x, size, self.num_prefix)
            x = self._after_block(i, x, size, self.num_prefix, outs)
        return tuple(outs)

    def _no_weight_decay_parameters(self):
        return [*super()._no_weight_decay_parameters(), self.patch_embed.inner_pos]

    def _init_layers(self):
        super()._init_layers()
        trunc_normal_(self.patch_embed.inner_pos, std=0.02)


# ----------------------------------------------------------------------------- checkpoints
# The official files (huawei-noah/Efficient-AI-Backbones ``tnt_pytorch/tnt.py``) and timm's
# ``tnt_*`` (timm renames the official keys; its legacy port has the same names) -> mmvitx's names.
_TNT_RENAMES = tuple((re.compile(pattern), name) for pattern, name in (
    (r'^pixel_embed\.proj\.', 'patch_embed.proj.'),
    (r'^(?:inner_pos|pixel_pos)$', 'patch_embed.inner_pos'),
    (r'^(?:proj_norm1|norm1_proj)\.', 'patch_embed.fold.norm1.'),
    (r'^proj\.', 'patch_embed.fold.proj.'),
    (r'^(?:proj_norm2|norm2_proj)\.', 'patch_embed.fold.norm2.'),
    (r'^(?:outer_pos|patch_pos)$', 'pos_embed'),
    (r'^(blocks\.\d+)\.(?:inner_norm1|norm_in)\.', r'\1.inner.norm1.'),
    (r'^(blocks\.\d+)\.(?:inner_attn|attn_in)\.', r'\1.inner.attn.'),
    (r'^(blocks\.\d+)\.(?:inner_norm2|norm_mlp_in)\.', r'\1.inner.norm2.'),
    (r'^(blocks\.\d+)\.(?:inner_mlp|mlp_in)\.', r'\1.inner.mlp.'),
    (r'^(blocks\.\d+)\.(?:proj_norm1|norm1_proj)\.', r'\1.fold.norm1.'),
    (r'^(blocks\.\d+)\.proj\.', r'\1.fold.proj.'),
    (r'^(blocks\.\d+)\.(?:proj_norm2|norm2_proj)\.', r'\1.fold.norm2.'),
    (r'^(blocks\.\d+)\.(?:outer_norm1|norm_out)\.', r'\1.norm1.'),
    (r'^(blocks\.\d+)\.(?:outer_attn|attn_out)\.', r'\1.attn.'),
    (r'^(blocks\.\d+)\.(?:outer_norm2|norm_mlp)\.', r'\1.norm2.'),
    (r'^(blocks\.\d+)\.outer_mlp\.', r'\1.mlp.'),
))
_QK = re.compile(r'^(.+\.attn)\.qk\.(weight|bias)$')
_V = re.compile(r'^.+\.attn\.v\.(?:weight|bias)$')


def _tnt_name(key: str) -> str:
    for pattern, name in _TNT_RENAMES:
        if pattern.match(key):
            return pattern.sub(name, key)
    return key


@register_converter('tnt', source="TNT's official files (huawei-noah/Efficient-AI-Backbones "
                   "releases: tnt_s_81.5.pth.tar, tnt_b_82.9.pth.tar) or timm's tnt_* weights "
                   '(the legacy port tnt_s_legacy_patch16_224 too)')
def convert_tnt(state_dict: dict) -> OrderedDict:
    """Official or timm TNT weights -> mmvitx TNT: renamed (:data:`_TNT_RENAMES`), each
    attention's ``qk`` and ``v`` projections concatenated into ``qkv`` (rows q, k, v), timm's
    inner table (1, c, 4, 4) laid out as the official (1, 16, c); the head and the official
    unused ``outer_tokens`` are dropped. Idempotent on mmvitx checkpoints."""
    renamed = OrderedDict((_tnt_name(key), value) for key, value in state_dict.items()
                          if key != 'outer_tokens' and not key.startswith('head.'))
    converted = OrderedDict()
    for key, value in renamed.items():
        if _V.match(key):
            continue  # joined to its qk below
        qk = _QK.match(key)
        if qk:
            attn, kind = qk.groups()
            key, value = f'{attn}.qkv.{kind}', torch.cat([value, renamed[f'{attn}.v.{kind}']])
        elif key == 'patch_embed.inner_pos' and value.dim() == 4:
            value = value.flatten(2).transpose(1, 2)
        converted[key] = value
    return converted
