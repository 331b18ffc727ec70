"""MViT: Multiscale Vision Transformers (Fan et al., ICCV 2021) and MViTv2 (Li et al., CVPR 2022).

A single stream of tokens whose resolution falls and width grows over four stages: at the first
block of stages 2-4 the queries are pooled with stride 2 (and the heads double), while keys and
values are pooled at every block with a stride that keeps their map small (pooling attention).
MViTv2 adds a decomposed relative position term and residual pooling; MViT v1 uses a class token
and an absolute position embedding. For dense prediction, MViTv2's hybrid window attention
(window attention inside a stage, global attention in a stage's last block) bounds the cost at
detection resolution.

Written from the papers; where a released model departs from them (MViTv2-L, see ``arch_zoo``),
the official configurations (facebookresearch/mvit ``configs/``) decide. Any input size works:
position terms are resized to the actual size, windows are padded and cropped.
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

from ..layers import LinearFFN, decomposed_rel_pos_attention, resize_abs_pos_embed, windowed
from ..pretrained import register_converter
from .base import (DenseBackbone, check_outputs_and_freezing, init_transformer_weights,
                   register_backbone)

_V1 = dict(version=1, embed_dims=96, num_heads=1, dim_mul_in_attention=False, rel_pos=False,
           residual_pooling=False, cls_token=True, abs_pos_embed=True, q_pool_every_block=False)
# Width and heads of stage 1 (both double at each later stage) and blocks per stage.
arch_zoo = {
    't': dict(embed_dims=96, num_heads=1, depths=(1, 2, 5, 2)),
    's': dict(embed_dims=96, num_heads=1, depths=(1, 2, 11, 2)),
    'b': dict(embed_dims=96, num_heads=1, depths=(2, 3, 16, 3)),
    # The released MViTv2-L expands the width in the MLP, not the attention (DIM_MUL_IN_ATT: False
    # in facebookresearch/mvit configs/test/MVITv2_L_test.yaml; only so do its parameters total
    # the published 218M).
    'l': dict(embed_dims=144, num_heads=2, depths=(2, 6, 36, 4), dim_mul_in_attention=False),
    'h': dict(embed_dims=192, num_heads=3, depths=(4, 8, 60, 8)),
    'v1-b-16': dict(_V1, depths=(1, 2, 11, 2)),
    'v1-b-24': dict(_V1, depths=(2, 3, 16, 3)),
}
arch_aliases = {'tiny': 't', 'small': 's', 'base': 'b', 'large': 'l', 'huge': 'h',
                'v1-b16': 'v1-b-16', 'v1-b24': 'v1-b-24'}
arch_defaults = dict(version=2, mlp_ratio=4, pool_kernel=3, adaptive_kv_stride=4,
                     dim_mul_in_attention=True, rel_pos=True, residual_pooling=True,
                     cls_token=False, abs_pos_embed=False, q_pool_every_block=True,
                     pool_mode='conv')
NUM_STAGES = 4
PATCH_STRIDE = 4


class PoolingAttention(nn.Module):
    """Multi-head pooling attention on a token map (B, [cls +] H * W, C).

    q, k and v come from one projection and are pooled per head on the map: by a depthwise 3x3
    conv shared by the heads, followed by a LayerNorm (``pool_mode='conv'``), or by max/avg pooling
    (MViT v1 options). Queries are pooled with ``q_stride`` (only where a pooling layer exists),
    keys and values with ``kv_stride``. A class token bypasses pooling. Optional: MViTv2's
    decomposed relative position term and residual pooling (the pooled queries added to the
    attention output).
    """

    def __init__(self, in_dims: int, dims: int, num_heads: int, q_stride: int, kv_stride: int,
                 pool_kernel: int, pool_mode: str, pool_q: bool, rel_pos_length: int | None,
                 residual_pooling: bool, with_cls_token: bool):
        super().__init__()
        self.num_heads = num_heads
        self.with_cls_token = with_cls_token
        self.residual_pooling = residual_pooling
        self.qkv = nn.Linear(in_dims, 3 * dims)
        self.proj = nn.Linear(dims, dims)
        head_dims = dims // num_heads
        self.pool_q, self.norm_q = self._pooling(head_dims, pool_kernel, q_stride, pool_mode,
                                                 pool_q or q_stride > 1)
        self.pool_k, self.norm_k = self._pooling(head_dims, pool_kernel, kv_stride, pool_mode)
        self.pool_v, self.norm_v = self._pooling(head_dims, pool_kernel, kv_stride, pool_mode)
        if rel_pos_length:
            self.rel_pos_h = nn.Parameter(torch.zeros(rel_pos_length, head_dims))
            self.rel_pos_w = nn.Parameter(torch.zeros(rel_pos_length, head_dims))
        else:
            self.rel_pos_h = self.rel_pos_w = None

    @staticmethod
    def _pooling(dims, kernel, stride, mode, enabled=True):
        if not enabled:
            return None, None
        padding = kernel // 2
        if mode == 'conv':
            return (nn.Conv2d(dims, dims, kernel, stride, padding, groups=dims, bias=False),
                    nn.LayerNorm(dims, eps=1e-6))
        pool = nn.MaxPool2d if mode == 'max' else nn.AvgPool2d
        return pool(kernel, stride, padding), None

    def _pool(self, tokens, size, pool, norm):
        if pool is None:
            return tokens, size
        if self.with_cls_token:
            cls_token, tokens = tokens[:, :, :1], tokens[:, :, 1:]
        batch, heads, _, channels = tokens.shape
        # Dense channels-last: a strided view of the projection (batch 1) sends oneDNN's
        # depthwise convolution down a slow path (MViTv2-T training at 512: 13 % of the step).
        grid = tokens.reshape(batch * heads, *size, channels).permute(0, 3, 1, 2)
        grid = pool(grid.contiguous(memory_format=torch.channels_last))
        size = tuple(grid.shape[-2:])
        tokens = grid.reshape(batch, heads, channels, -1).transpose(2, 3)
        if self.with_cls_token:
            tokens = torch.cat([cls_token, tokens], dim=2)
        return (norm(tokens) if norm is not None else tokens), size

    def forward(self, x: torch.Tensor, size: tuple[int, int]):
        """Returns the attended tokens (B, [cls +] Hq * Wq, dims) and (Hq, Wq)."""
        batch, num_tokens, _ = x.shape
        qkv = self.qkv(x).reshape(batch, num_tokens, 3, self.num_heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        q, q_size = self._pool(q, size, self.pool_q, self.norm_q)
        k, k_size = self._pool(k, size, self.pool_k, self.norm_k)
        v, _ = self._pool(v, size, self.pool_v, self.norm_v)
        prefix = int(self.with_cls_token)
        if self.rel_pos_h is not None:
            out = decomposed_rel_pos_attention(q, k, v, q_size, k_size, self.rel_pos_h,
                                               self.rel_pos_w, num_prefix=prefix)
        else:
            out = F.scaled_dot_product_attention(q, k, v)
        if self.residual_pooling:
            out = torch.cat([out[:, :, :prefix], out[:, :, prefix:] + q[:, :, prefix:]], dim=2)
        out = out.transpose(1, 2).reshape(batch, q.shape[2], -1)
        return self.proj(out), q_size


class MultiScaleBlock(nn.Module):
    """Pooling attention and MLP, both pre-norm residual, on (B, [cls +] H * W, C) tokens.

    Where the width grows, a Linear on the normalised input projects the shortcut: around the
    attention when the expansion is in the attention (MViTv2), around the MLP otherwise (MViT v1,
    released MViTv2-L). A query stride max-pools the shortcut too (kernel s + 1). With
    ``window_size``, attention runs inside non-overlapping windows of the (padded) map.
    """

    def __init__(self, in_dims: int, out_dims: int, num_heads: int, q_stride: int,
                 kv_stride: int, window_size: int, rel_pos_length: int | None, drop_path: float,
                 arch: dict, with_cp: bool = False):
        super().__init__()
        self.with_cp = with_cp
        self.window_size = window_size
        self.q_stride = q_stride
        self.with_cls_token = arch['cls_token']
        self.expand_in_attention = arch['dim_mul_in_attention']
        dims = out_dims if self.expand_in_attention else in_dims
        self.norm1 = nn.LayerNorm(in_dims, eps=1e-6)
        self.attn = PoolingAttention(
            in_dims, dims, num_heads, q_stride, kv_stride, arch['pool_kernel'], arch['pool_mode'],
            arch['q_pool_every_block'], rel_pos_length, arch['residual_pooling'],
            self.with_cls_token)
        self.norm2 = nn.LayerNorm(dims, eps=1e-6)
        self.mlp = LinearFFN(dims, int(dims * arch['mlp_ratio']), out_dims=out_dims)
        self.proj = nn.Linear(in_dims, out_dims) if in_dims != out_dims else None
        self.shortcut_pool = (nn.MaxPool2d(q_stride + 1, q_stride, (q_stride + 1) // 2)
                              if q_stride > 1 else None)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def _pool_shortcut(self, x, size):
        if self.shortcut_pool is None:
            return x, size
        prefix = int(self.with_cls_token)
        batch, _, channels = x.shape
        grid = x[:, prefix:].transpose(1, 2).reshape(batch, channels, *size)
        grid = self.shortcut_pool(grid)
        return torch.cat([x[:, :prefix], grid.flatten(2).transpose(1, 2)], 1), grid.shape[-2:]

    def _windowed_attention(self, x, size):
        window = (self.window_size, self.window_size)
        grid = x.reshape(x.shape[0], *size, x.shape[-1])
        out = windowed(lambda windows: self.attn(windows, window)[0], grid, window,
                       q_stride=self.q_stride)
        return out.flatten(1, 2)

    def _forward(self, x, size):
        x_norm = self.norm1(x)
        expands_here = self.proj is not None and self.expand_in_attention
        shortcut = self.proj(x_norm) if expands_here else x
        shortcut, out_size = self._pool_shortcut(shortcut, size)
        if self.window_size:
            attn = self._windowed_attention(x_norm, size)
        else:
            attn, _ = self.attn(x_norm, size)
        x = shortcut + self.drop_path(attn)
        x_norm = self.norm2(x)
        shortcut = self.proj(x_norm) if self.proj is not None and not expands_here else x
        return shortcut + self.drop_path(self.mlp(x_norm)), tuple(out_size)

    def forward(self, x: torch.Tensor, size: tuple[int, int]):
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, size, use_reentrant=False)
        return self._forward(x, size)


@register_backbone
class MViT(DenseBackbone):
    """MViTv2 (`arXiv 2112.01526 <https://arxiv.org/abs/2112.01526>`_) and MViT v1
    (`arXiv 2104.11227 <https://arxiv.org/abs/2104.11227>`_) backbone.

    Args:
        arch: MViTv2 ``'t'``, ``'s'``, ``'b'``, ``'l'``, ``'h'``; MViT v1 ``'v1-b-16'``,
            ``'v1-b-24'``; or a dict with ``embed_dims``, ``num_heads`` and ``depths`` (4 stages)
            and optionally the keys of ``arch_defaults`` (``cls_token=False`` drops v1's class
            token, which window attention needs).
        in_channels: input image channels.
        out_indices: stages to output, 0-3 at strides 4/8/16/32: each stage's last tokens, through
            a new LayerNorm applied to a copy (the network continues on the un-normalised tokens).
        window_attention: hybrid window attention (MViTv2's detection recipe): windows of
            ``pretrain_img_size // 4`` tokens in stage 1, halved per stage, and global attention
            in the last block of stages 2-4, where stages 2 and 3 also double the KV stride.
        pretrain_img_size: input size of the pretraining; sizes the relative-position tables and
            the absolute position embedding (both resized to the actual input at run time).
        drop_path_rate: stochastic depth, linear over all blocks.
        frozen_stages: freeze the patch embedding (0) and stages 1..k with their output norms; -1
            freezes nothing.
        norm_eval: keep BatchNorm layers in eval mode (MViT has none; kept for the common API).
        with_cp: activation checkpointing of every block.
        out_norm_cfg: the norm of each output, applied to the (B, C, H, W) map (default: LayerNorm
            over the channels, as in MViTv2's detection backbone).
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH)`` loads a local checkpoint (official
            MViTv2 ``.pyth``, SlowFast MViT v1 or mmvitx layout, converted on load).
    """

    family = 'mvit'
    arch_zoo = arch_zoo
    arch_aliases = arch_aliases
    default_arch = 'b'
    arch_required = frozenset({'embed_dims', 'num_heads', 'depths'})
    arch_defaults = arch_defaults
    # position terms: v1's absolute embedding and class token, v2's decomposed relative tables
    no_weight_decay_keys = ('pos_embed', 'rel_pos_h', 'rel_pos_w', 'cls_token')
    variants = (dict(window_attention=True), )
    reference = 'mmvitx.testing.references:build_mvit_pair'
    keys_missing_from_release = (r'out_norms\.', )
    pretrain_size_keys = (r'pos_embed$', r'blocks\.\d+\.attn\.rel_pos_[hw]$')

    def __init__(self,
                 arch: str | dict = default_arch,
                 in_channels: int = 3,
                 out_indices: tuple[int, ...] = (0, 1, 2, 3),
                 window_attention: bool = False,
                 pretrain_img_size: int = 224,
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 out_norm_cfg: dict = dict(type='LN2d', eps=1e-6),
                 init_cfg: dict | None = None):
        super().__init__(init_cfg=init_cfg)
        self.arch = self.resolve_arch(arch)
        out_indices = check_outputs_and_freezing(out_indices, frozen_stages, num=NUM_STAGES)
        if window_attention and self.arch['cls_token']:
            raise ValueError('window_attention needs an arch without a class token: set '
                             "arch=dict(..., cls_token=False) (MViT v1's class token is global)")
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        embed_dims, depths = self.arch['embed_dims'], self.arch['depths']
        self.pretrain_grid = pretrain_img_size // PATCH_STRIDE

        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(in_channels, embed_dims, 7, PATCH_STRIDE, 3)
        num_prefix = int(self.arch['cls_token'])
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims)) if num_prefix else None
        self.pos_embed = (nn.Parameter(
            torch.zeros(1, self.pretrain_grid**2 + num_prefix, embed_dims))
                          if self.arch['abs_pos_embed'] else None)

        transitions = {sum(depths[:i]) for i in range(1, NUM_STAGES)}
        self.stage_ends = [sum(depths[:i + 1]) - 1 for i in range(NUM_STAGES)]
        rates = torch.linspace(0, drop_path_rate, sum(depths), device='cpu').tolist()
        dims, heads, kv_stride = embed_dims, self.arch['num_heads'], self.arch['adaptive_kv_stride']
        size = self.pretrain_grid  # token map side at the pretraining size
        window = self.pretrain_grid
        stage_dims = []
        self.blocks = nn.ModuleList()
        for i in range(sum(depths)):
            q_stride = 2 if i in transitions else 1
            if i in transitions:
                heads *= 2
                kv_stride = max(kv_stride // 2, 1)
            expands = i in transitions if self.arch['dim_mul_in_attention'] else (
                i + 1 in transitions)
            out_dims = 2 * dims if expands else dims
            global_block = window_attention and i in self.stage_ends[1:]
            block_kv_stride = kv_stride * 2 if global_block and i != self.stage_ends[-1] else (
                kv_stride)
            rel_pos_length = None
            if self.arch['rel_pos']:
                rel_pos_length = 2 * max(size // q_stride, size // block_kv_stride) - 1
            self.blocks.append(MultiScaleBlock(
                dims, out_dims, heads, q_stride, block_kv_stride,
                window if window_attention and not global_block else 0, rel_pos_length, rates[i],
                self.arch, with_cp))
            # A pooling block partitions its input map; its queries come out on windows // 2.
            dims, size, window = out_dims, size // q_stride, window // q_stride
            if i in self.stage_ends:
                stage_dims.append(dims)
        self.num_features = tuple(stage_dims)
        self.out_norms = nn.ModuleDict(
            {str(i): build_norm_layer(out_norm_cfg, stage_dims[i])[1] for i in out_indices})
        self._finish_init()

    @classmethod
    def pretrain_img_size_of(cls, state_dict: dict) -> int | None:
        # The first block's tables span 2 * grid - 1 positions (it pools no queries); v1's
        # embedding holds grid**2 tokens and a class token.
        if 'blocks.0.attn.rel_pos_h' in state_dict:
            grid = (state_dict['blocks.0.attn.rel_pos_h'].shape[0] + 1) // 2
        elif 'pos_embed' in state_dict:
            grid = math.isqrt(state_dict['pos_embed'].shape[1])
        else:
            return None
        return grid * PATCH_STRIDE

    @classmethod
    def _check_arch(cls, arch):
        if len(arch['depths']) != NUM_STAGES:
            raise ValueError(f'MViT arch depths needs {NUM_STAGES} entries, got {arch["depths"]}')
        if arch['pool_mode'] not in ('conv', 'max', 'avg'):
            raise ValueError(f"MViT pool_mode must be 'conv', 'max' or 'avg', got "
                             f"{arch['pool_mode']!r}")

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.patch_embed.proj(x)
        size = tuple(x.shape[-2:])
        x = x.flatten(2).transpose(1, 2)
        if self.cls_token is not None:
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        if self.pos_embed is not None:
            x = x + resize_abs_pos_embed(self.pos_embed, int(self.cls_token is not None),
                                         self.pretrain_grid, size)
        num_prefix = int(self.cls_token is not None)
        outs = []
        last = self.stage_ends[max(self.out_indices)]
        for i, block in enumerate(self.blocks[:last + 1]):
            x, size = block(x, size)
            if i in self.stage_ends and self.stage_ends.index(i) in self.out_indices:
                stage = self.stage_ends.index(i)
                out = x[:, num_prefix:].transpose(1, 2).reshape(x.shape[0], -1, *size)
                outs.append(self.out_norms[str(stage)](out).contiguous())
        return tuple(outs)

    def _no_weight_decay_parameters(self):
        rel_pos = [table for module in self.modules() if isinstance(module, PoolingAttention)
                   for table in (module.rel_pos_h, module.rel_pos_w)]
        return [*rel_pos, self.cls_token, self.pos_embed]

    def _init_layers(self):
        rel_pos = [table for module in self.modules() if isinstance(module, PoolingAttention)
                   for table in (module.rel_pos_h, module.rel_pos_w)]
        init_transformer_weights(self, (*rel_pos, self.cls_token, self.pos_embed))

    def _frozen_modules(self):
        if self.frozen_stages >= 0:
            yield self.patch_embed
            yield from (p for p in (self.cls_token, self.pos_embed) if p is not None)
        for stage in range(self.frozen_stages):
            first = self.stage_ends[stage - 1] + 1 if stage else 0
            yield from self.blocks[first:self.stage_ends[stage] + 1]
            if str(stage) in self.out_norms:
                yield self.out_norms[str(stage)]


# ----------------------------------------------------------------------------- checkpoints
# SlowFast (facebookresearch/SlowFast) builds MViT from 3-D layers even for images: pooling convs
# are Conv3d with kernel (1, 3, 3), and the patch embedding is a Conv3d (1, 7, 7) unless the
# config sets PATCH_2D. Its code before the MViTv2 update (and later with SEPARATE_QKV) projects
# q, k and v with three Linears ``attn.q``/``attn.k``/``attn.v``; otherwise ``attn.qkv`` as here.
# (POOL_FIRST, pooling before the projection, has the same names and shapes but another
# computation; the image configs leave it off.)
_SEPARATE_QKV = re.compile(r'(blocks\.\d+\.attn)\.([qkv])\.(weight|bias)')
# timm's MViTv2 nests the blocks per stage and names the width-expanding shortcut Linear after
# where it sits; the official layout (and mmvitx's) numbers the blocks through and calls it proj.
_TIMM_BLOCK = re.compile(r'stages\.(\d+)\.blocks\.(\d+)\.')
_TIMM_SHORTCUT = re.compile(r'\.shortcut_proj_(attn|mlp)\.')
_TEMPORAL_CONVS = re.compile(r'patch_embed\.proj\.weight|blocks\.\d+\.attn\.pool_[qkv]\.weight')
_VIDEO_KEYS = ('pos_embed_spatial', 'pos_embed_temporal', 'pos_embed_class')


def _timm_to_official(state_dict: dict) -> dict:
    """timm's ``stages.S.blocks.B`` layout -> the official flat ``blocks.N`` one (the stage
    depths are read from the keys); other layouts pass through."""
    depths = {}
    for key in state_dict:
        match = _TIMM_BLOCK.match(key)
        if match:
            stage, block = int(match[1]), int(match[2])
            depths[stage] = max(depths.get(stage, 0), block + 1)
    if not depths:
        return state_dict
    starts = {stage: sum(depths.get(s, 0) for s in range(stage)) for stage in depths}
    return {_TIMM_SHORTCUT.sub('.proj.', _TIMM_BLOCK.sub(
        lambda m: f'blocks.{starts[int(m[1])] + int(m[2])}.', key)): value
            for key, value in state_dict.items()}


def _squeeze_time(key: str, weight: torch.Tensor) -> torch.Tensor:
    """A Conv3d weight (out, in, t, kh, kw) with t == 1 as the equivalent Conv2d weight."""
    if weight.shape[2] != 1:
        raise ValueError(f'{key}: temporal kernel size {weight.shape[2]} (weight shape '
                         f'{tuple(weight.shape)}): a video MViT checkpoint; mmvitx converts the '
                         f'image models only')
    return weight[:, :, 0]


@register_converter('mvit')
def convert_mvit(state_dict: dict) -> OrderedDict:
    """Official MViTv2 (``model_state``, flat ``blocks.N`` names), timm ``mvitv2_*`` (per-stage
    ``stages.S.blocks.B`` names) or SlowFast MViT v1 image weights (e.g. ImageNet
    ``MVIT_B_16_CONV``) -> mmvitx ``MViT``, whose names follow the official ones.

    SlowFast specifics: separate ``attn.q``/``attn.k``/``attn.v`` Linears are concatenated into
    ``attn.qkv`` (in that order), and the singleton temporal dimension of Conv3d kernels (patch
    embedding, pooling convs) is dropped. The ImageNet head (``norm``, ``head.*``) and
    ``num_batches_tracked`` are dropped. Idempotent on mmvitx checkpoints. Video checkpoints
    (temporal kernels, separate space/time position embeddings, temporal relative positions) and
    layers mmvitx does not have are rejected with the offending key.
    """
    converted = OrderedDict()
    separate = {}  # (attention prefix, weight|bias) -> {q|k|v: tensor}
    for key, value in _timm_to_official(state_dict).items():
        if key.startswith(('head.', 'norm.')) or key.endswith('num_batches_tracked'):
            continue
        if key.startswith(_VIDEO_KEYS) or key.endswith('.rel_pos_t'):
            raise ValueError(f'{key}: a video MViT checkpoint (separate space/time position '
                             f'embeddings or temporal relative positions); mmvitx converts the '
                             f'image models only')
        if key.startswith('norm_stem.'):
            raise ValueError(f'{key}: a LayerNorm after the patch embedding (SlowFast NORM_STEM), '
                             f'which mmvitx MViT does not have')
        match = _SEPARATE_QKV.fullmatch(key)
        if match:
            prefix, part, kind = match.groups()
            parts = separate.setdefault((prefix, kind), {})
            parts[part] = value
            if len(parts) == 3:
                converted[f'{prefix}.qkv.{kind}'] = torch.cat(
                    [parts['q'], parts['k'], parts['v']], dim=0)
                del separate[(prefix, kind)]
            continue
        if _TEMPORAL_CONVS.fullmatch(key) and value.dim() == 5:
            value = _squeeze_time(key, value)
        converted[key] = value
    if separate:
        (prefix, kind), parts = next(iter(separate.items()))
        missing = sorted(set('qkv') - set(parts))
        raise ValueError(f'{prefix}: separate q/k/v projections without '
                         f'{", ".join(f"{prefix}.{p}.{kind}" for p in missing)}')
    return converted
