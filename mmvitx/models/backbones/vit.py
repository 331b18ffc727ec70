"""Plain vision transformers as dense backbones: ViT, DeiT, CaiT, DeepViT, CPVT and LocalViT.

All six are the ViT encoder (Dosovitskiy et al., arXiv 2010.11929): a stride-p patch embedding, a
learned absolute position table and a stack of pre-norm blocks ``x + Attn(LN(x))``,
``x + MLP(LN(x))`` on one token map. Each paper changes one thing, so here the change is an option
of one block (:class:`PlainBlock`) and of one backbone (:class:`PlainViT`), and each paper is a
thin registered subclass holding its presets and its checkpoint converter:

- ViT: the encoder itself (google-research/vision_transformer ``vit_jax/configs/models.py``).
- DeiT (arXiv 2012.12877; facebookresearch/deit ``models.py``): ViT's architecture; the distilled
  models add a distillation token after the class token (and a row of the position table).
- CaiT (arXiv 2103.17239; facebookresearch/deit ``cait_models.py``): LayerScale on both residual
  branches and talking-heads attention (a Linear over the heads mixes the logits before the
  softmax, ``proj_l``, and the probabilities after it, ``proj_w``), on patch tokens only.
- DeepViT (arXiv 2103.11886; zhoudaquan/dvit_repo): re-attention, a 1x1 convolution over the heads
  (with bias) and a BatchNorm over the heads applied to the attention probabilities (times the
  attention scale where ``re_attention_scale``); DeepViT-S/L apply it in their last blocks only,
  scale the residual branches (``x + f(LN(a x)) / a``, a = 0.5) and use a 3-convolution stem.
- CPVT (arXiv 2102.10882): no position table; a position encoding generator (PEG, a depthwise 3x3
  convolution with bias and a residual on the token map) after the first block. The ``-gap``
  presets have no class token.
- LocalViT (arXiv 2104.05707; ofsoundof/LocalViT ``models/localvit.py``): the MLP, and the
  LayerNorm before it, replaced by a convolutional FFN on the token map (1x1 conv + BN + act,
  depthwise 3x3 + BN + act, optional squeeze-and-excitation, 1x1 conv + BN) with its own residual
  and no drop path; the class token skips it. ReLU6, or h-swish with SE, as in the presets.
- CeiT (arXiv 2103.11816; coeusguo/ceit ``ceit_model.py``): an image-to-tokens stem (a 7x7
  stride-2 convolution without bias, BatchNorm, a 3x3 stride-2 max-pool, then a 4x4 stride-4
  convolution to the width) and a locally-enhanced FFN (LeFF) after the second LayerNorm: on the
  patch-token map, 1x1 convolution + BN + GELU, depthwise 3x3 + BN + GELU, 1x1 convolution + BN,
  every convolution with a bias, under the block's residual and drop path.
- T2T-ViT (arXiv 2101.11986; yitu-opensource/T2T-ViT ``models/t2t_vit.py``): a tokens-to-token
  stem, three soft splits (overlapping unfolds: 7x7 stride 4, then 3x3 stride 2 twice) with a
  one-head layer of width 64 after each of the first two (a Performer, or a Transformer in the
  ``t-`` presets), then a Linear to the width; blocks without qkv bias and a fixed 1-D sinusoid
  position table.
- So-ViT (arXiv 2104.10935 v1; jiangtaoxie/So-ViT v1, ``src/``): a convolutional stem (a 3x3
  convolution, a 3x3 stride-2 max-pool, three stride-2 ResNet bottlenecks with projection
  shortcuts, a 1x1 convolution to the width), blocks without qkv bias and T2T-ViT's sinusoid
  table; the classifier is a second-order (cross-covariance) pooling of the patch tokens plus a
  Linear on the class token.

The stems of CeiT, T2T-ViT and So-ViT have stride 16, like a patch embedding of p = 16.

Dense use (ViTDet, Li et al., arXiv 2203.16527, and mmseg's ViT with MultiLevelNeck): the patch
tokens after any block are a map at stride p (the patch size), so ``out_indices`` indexes blocks
(mmseg's MultiLevelNeck takes (2, 5, 8, 11) of a 12-block ViT; ViTDet's simple feature pyramid the
last one). The input is zero-padded to a multiple of p on the bottom and right, so any size works
and the maps are ``ceil(size / p)``. The position table keeps its pretraining shape (with the class
and distillation rows, so release checkpoints load unchanged) and is resized bicubically to the
actual, possibly non-square, token grid; so is T2T-ViT's and So-ViT's fixed 1-D sinusoid table
(a raster order of the pretraining grid, which the blocks learned as rows and columns: resizing it
over that grid keeps the layout, a 1-D table regenerated for another width would not). ViTDet's
window attention (``window_size``, with global blocks at ``global_blocks``) and decomposed
relative positions (``use_rel_pos``, zero-initialised tables added by mmvitx) are options of
every family; they need ``with_cls_token=False``.

What is dropped, and why:

- the classifier heads (``head``, DeiT's ``head_dist``): classification only;
- the final LayerNorm (``norm``) unless ``final_norm=True``, which applies it to the last block's
  tokens (mmseg's ``final_norm``); ViTDet has none;
- the class and distillation tokens are dropped from the outputs only. They stay in the blocks by
  default: every patch token attends to them in the pretrained model, and LocalViT/CPVT route them
  around their convolutions. ``with_cls_token=False`` removes them from the input (ViTDet, which
  window attention requires); their rows of the position table stay, unused, so that checkpoints
  keep loading;
- CaiT's class token, its two class-attention blocks and its final norm's use on the class token:
  the class-attention stage updates only the class token and reads the patch tokens leaving the
  last self-attention block without changing them, so nothing it does can reach a dense output.
  CaiT's backbone is its self-attention stage, whose position table has no class row.
- CeiT's layer-wise class-token attention (LCA) and its layer embedding: they attend over the
  class tokens the blocks output, and nothing else, for the classifier. The final norm ``norm``
  normalised the LCA's output; ``final_norm=True`` applies it to the last block's tokens instead.
- So-ViT's second-order head (two reducing 1x1 convolutions, a cross-covariance of the patch
  tokens, its normalisation and Linear, and the class token's Linear): it pools the map away.
"""
import inspect
import math
import re
import warnings
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath
from torchvision.models.resnet import Bottleneck

from ..layers import (FoldedConvModule, LayerScale, LinearFFN, decomposed_rel_pos_attention,
                      decomposed_rel_pos_terms, pad_to_multiple, resize_abs_pos_embed, windowed)
from ..pretrained import register_converter
from .base import (DenseBackbone, check_outputs_and_freezing, init_transformer_weights,
                   register_backbone)

# Every option of the block and the backbone; a family fixes some (``PlainViT.fixed_arch``) and
# lets an arch dict override the others (its ``arch_defaults``).
BASE_ARCH = dict(
    patch_size=16,
    mlp_ratio=4,
    pretrain_img_size=224,
    qkv_bias=True,
    cls_token=True,  # a class token (and a row of the position table)
    dist_token=False,  # DeiT's distillation token (and a row of the position table)
    # 'abs': learned table added after the stem; 'peg': CPVT's PEG after block 0; 'sinusoid':
    # T2T-ViT's fixed 1-D sinusoid table (a frozen parameter, resized like a learned one)
    position='abs',
    attention='plain',  # 'plain', 'talking_heads' (CaiT), 're_attention' (DeepViT)
    layer_scale=None,  # LayerScale init value (CaiT), or None for none
    re_attention_blocks=None,  # DeepViT: how many last blocks apply the transform (None: all)
    re_attention_scale=False,  # DeepViT: scale the transformed map by the attention scale
    residual_scale=1.,  # DeepViT-S/L: x + f(LN(a x)) / a
    # 'patch' (p x p convolution), 'conv' (DeepViT-S/L), 'image-to-tokens' (CeiT),
    # 't2t-performer' / 't2t-transformer' (T2T-ViT), 'bottleneck' (So-ViT); the last four: p = 16
    stem='patch',
    qk_scale='head_dims',  # logits q k^T / sqrt(d), d: 'head_dims' or 'embed_dims' (T2T-ViT)
    # 'mlp' (LayerNorm + MLP), 'locality' (LocalViT's convolutional FFN) or 'leff' (CeiT's)
    ffn='mlp',
    ffn_act='hswish',  # the convolutional FFN's: 'hswish', 'relu6' (LocalViT) or 'gelu' (CeiT)
    se_reduction=None,  # LocalViT: SE hidden width = FFN width // se_reduction (None: no SE)
    gpsa_blocks=0,  # ConViT: the first blocks attend with gated positional self-attention
    locality_strength=1.,  # ConViT: the scale of GPSA's local initialisation
    cls_token_block=0,  # ConViT: the class token joins before this block, without a table row
    norm_eps=1e-6,  # the LayerNorms' epsilon (TNT, T2T-ViT, So-ViT: 1e-5, torch's default)
)


# The stride of each stem: its arch's patch_size for 'patch' and 'conv'; fixed for the others.
STEM_STRIDES = {'patch': None, 'conv': None, 'image-to-tokens': 16, 't2t-performer': 16,
                't2t-transformer': 16, 'bottleneck': 16}


def grid_offsets(size: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
    """(N, N, 3) offsets between the tokens of an (H, W) grid in row-major order: for query i
    and key j, (x_j - x_i, y_j - y_i, (x_j - x_i)^2 + (y_j - y_i)^2) (ConViT's relative
    indices, extended to non-square grids)."""
    height, width = size
    ys = torch.arange(height, device=like.device).repeat_interleave(width)
    xs = torch.arange(width, device=like.device).repeat(height)
    dx = (xs[None, :] - xs[:, None]).to(like.dtype)
    dy = (ys[None, :] - ys[:, None]).to(like.dtype)
    return torch.stack([dx, dy, dx * dx + dy * dy], dim=-1)


class PlainAttention(nn.Module):
    """Multi-head self-attention of the ViT family on (B, N, C) tokens.

    ``mode``: ``'plain'`` (softmax(q k^T / sqrt(d)) v, through ``scaled_dot_product_attention``),
    ``'talking_heads'`` (CaiT: ``proj_l``, a Linear over the heads, mixes the logits before the
    softmax and ``proj_w`` the probabilities after it) or ``'re_attention'`` (DeepViT: with
    ``transform``, the probabilities go through ``reatten_matrix``, a 1x1 convolution over the
    heads, and ``var_norm``, a BatchNorm over the heads, times the attention scale where
    ``transform_scale``; without it, plain attention). With ``rel_pos_length``, MViTv2/ViTDet's
    decomposed relative position term (tables of that many rows, resized to the token grid) is
    added to the logits; the tokens must then be exactly the (H, W) grid given to ``forward``.
    ``qk_scale`` scales the logits q k^T (None: 1 / sqrt(d) of the head width d; T2T-ViT's and
    So-ViT's releases were trained with 1 / sqrt(dims)).
    """

    def __init__(self, dims: int, num_heads: int, qkv_bias: bool = True, mode: str = 'plain',
                 transform: bool = True, transform_scale: bool = False,
                 rel_pos_length: int | None = None, attn_drop: float = 0., proj_drop: float = 0.,
                 norm_cfg: dict = dict(type='BN'), qk_scale: float | None = None):
        super().__init__()
        if dims % num_heads:
            raise ValueError(f'embed_dims ({dims}) must be divisible by num_heads ({num_heads})')
        self.num_heads = num_heads
        self.mode = mode
        self.qk_scale = qk_scale  # None: SDPA's default, the one below
        self.scale = qk_scale or (dims // num_heads)**-0.5
        self.attn_drop = attn_drop
        if mode == 'gpsa':  # ConViT: queries and keys, values and the positional score apart
            self.qk = nn.Linear(dims, 2 * dims, bias=qkv_bias)
            self.v = nn.Linear(dims, dims, bias=qkv_bias)
            self.pos_proj = nn.Linear(3, num_heads)
            self.gating_param = nn.Parameter(torch.ones(num_heads))
        else:
            self.qkv = nn.Linear(dims, 3 * dims, bias=qkv_bias)
        self.proj = nn.Linear(dims, dims)
        self.proj_drop = nn.Dropout(proj_drop)
        if mode == 'talking_heads':
            self.proj_l = nn.Linear(num_heads, num_heads)
            self.proj_w = nn.Linear(num_heads, num_heads)
        self.transform = mode == 're_attention' and transform
        if self.transform:
            self.reatten_matrix = nn.Conv2d(num_heads, num_heads, 1)
            self.var_norm = build_norm_layer(norm_cfg, num_heads)[1]
            self.reatten_scale = self.scale if transform_scale else 1.
        if rel_pos_length:
            self.rel_pos_h = nn.Parameter(torch.zeros(rel_pos_length, dims // num_heads))
            self.rel_pos_w = nn.Parameter(torch.zeros(rel_pos_length, dims // num_heads))
        else:
            self.rel_pos_h = self.rel_pos_w = None

    @staticmethod
    def _mix_heads(linear: nn.Linear, maps: torch.Tensor) -> torch.Tensor:
        """``linear`` over the head axis of (B, H, N, M) maps, as one batched product on their
        contiguous (B, H, N * M) view (applying the Linear to the permuted maps would copy them
        twice and leave the softmax a strided tensor)."""
        batch, heads = maps.shape[:2]
        flat = maps.reshape(batch, heads, -1)
        bias = linear.bias.view(1, -1, 1).expand(batch, -1, flat.shape[-1])
        weight = linear.weight.expand(batch, -1, -1)
        return torch.baddbmm(bias, weight, flat).view(batch, -1, *maps.shape[2:])

    def _gpsa(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """ConViT's gated positional self-attention on the (H, W) token grid: per head,
        ``(1 - g) softmax(q k^T / sqrt(d)) + g softmax(pos_proj(dx, dy, dx^2 + dy^2))``,
        renormalised over the keys, with ``g = sigmoid(gating_param)``; (dx, dy) is the key's
        offset from the query on the grid, of any shape."""
        batch, num_tokens, channels = x.shape
        head_dims = channels // self.num_heads
        q, k = self.qk(x).view(batch, num_tokens, 2, self.num_heads, head_dims).permute(
            2, 0, 3, 1, 4).unbind(0)
        v = self.v(x).view(batch, num_tokens, self.num_heads, head_dims).transpose(1, 2)
        patch_score = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        pos_score = self.pos_proj(grid_offsets(size, x)).permute(2, 0, 1).softmax(dim=-1)
        gate = torch.sigmoid(self.gating_param).view(1, -1, 1, 1)
        attn = (1. - gate) * patch_score + gate * pos_score
        attn = attn / attn.sum(dim=-1, keepdim=True)
        attn = F.dropout(attn, self.attn_drop, self.training)
        return attn @ v

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        batch, num_tokens, channels = x.shape
        if self.mode == 'gpsa':
            out = self._gpsa(x, size).transpose(1, 2).reshape(batch, num_tokens, channels)
            return self.proj_drop(self.proj(out))
        qkv = self.qkv(x).view(batch, num_tokens, 3, self.num_heads, channels // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        attn_drop = self.attn_drop if self.training else 0.
        if self.mode == 'plain' or (self.mode == 're_attention' and not self.transform):
            if self.rel_pos_h is not None:
                out = decomposed_rel_pos_attention(q, k, v, size, size, self.rel_pos_h,
                                                   self.rel_pos_w, scale=self.qk_scale)
            else:
                out = F.scaled_dot_product_attention(q, k, v, dropout_p=attn_drop,
                                                     scale=self.qk_scale)
        else:
            logits = (q * self.scale) @ k.transpose(-2, -1)
            if self.rel_pos_h is not None:
                term_h, term_w = decomposed_rel_pos_terms(q, size, size, self.rel_pos_h,
                                                          self.rel_pos_w)
                logits = logits + (term_h.unsqueeze(-1) + term_w.unsqueeze(-2)).flatten(-2)
            if self.mode == 'talking_heads':
                logits = self._mix_heads(self.proj_l, logits)
            attn = logits.softmax(dim=-1)
            if self.mode == 'talking_heads':
                attn = self._mix_heads(self.proj_w, attn)
            attn = F.dropout(attn, attn_drop, self.training)
            if self.transform:
                attn = self.var_norm(self.reatten_matrix(attn)) * self.reatten_scale
            out = attn @ v
        out = out.transpose(1, 2).reshape(batch, num_tokens, channels)
        return self.proj_drop(self.proj(out))


class SqueezeExcitation(nn.Module):
    """LocalViT's SE: global average -> Linear -> ReLU -> Linear -> hard sigmoid, scaling the
    channels of a (B, C, H, W) map."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = F.hardsigmoid(self.fc2(F.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * scale[:, :, None, None]


class LocalityFFN(nn.Module):
    """The convolutional feed-forward network of LocalViT and CeiT (its LeFF) on a (B, C, H, W)
    map, without the residual: ``BN(conv1x1(SE(act(BN(dwconv3x3(act(BN(conv1x1(x)))))))))``.
    The depthwise convolution (zero padding) gives each token its 3x3 neighbourhood. LocalViT:
    no convolution has a bias, h-swish (with SE) or ReLU6; CeiT: every convolution has a bias,
    GELU, no SE."""

    activations = {'hswish': 'HSwish', 'relu6': 'ReLU6', 'gelu': 'GELU'}

    def __init__(self, dims: int, hidden: int, act: str = 'hswish',
                 se_reduction: int | None = None, norm_cfg: dict = dict(type='BN'),
                 bias: bool = False):
        super().__init__()
        act_cfg = dict(type=self.activations[act])
        common = dict(bias=bias, norm_cfg=norm_cfg)
        with warnings.catch_warnings():
            # CeiT's biases before the BatchNorms are in its architecture and checkpoints.
            warnings.filterwarnings('ignore', 'Unnecessary conv bias')
            self.fc1 = FoldedConvModule(dims, hidden, 1, act_cfg=act_cfg, **common)
            self.dwconv = FoldedConvModule(hidden, hidden, 3, padding=1, groups=hidden,
                                           act_cfg=act_cfg, **common)
            self.se = SqueezeExcitation(hidden, hidden // se_reduction) if se_reduction else None
            self.fc2 = FoldedConvModule(hidden, dims, 1, act_cfg=None, **common)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(self.fc1(x))
        if self.se is not None:
            y = self.se(y)
        return self.fc2(y)


class PlainBlock(nn.Module):
    """The ViT block with the family's options, on (B, prefix + H * W, C) tokens.

    ``x + ls1(Attn(LN(x)))`` then ``x + ls2(MLP(LN(x)))`` (LayerScale ``ls1``/``ls2`` only with
    ``layer_scale``); with ``residual_scale`` a != 1, ``x + f(LN(a x)) / a`` (DeepViT-S/L); with
    ``ffn='locality'``, LocalViT's :class:`LocalityFFN` on the patch tokens instead of the second
    branch (no LayerNorm before it, its own residual without drop path, the prefix tokens skip
    it); with ``ffn='leff'``, CeiT's: ``x + ls2(LeFF(LN(x)))``, the FFN on the patch tokens and
    the prefix tokens passed through it normalised but unchanged, so that a class token gains
    its own LN(x) (the official code's, with which the released weights were trained). With
    ``window_size``, attention runs inside windows of the zero-padded token map (ViTDet; no
    prefix tokens).
    """

    def __init__(self, dims: int, num_heads: int, arch: dict, transform: bool,
                 window_size: int = 0, rel_pos_length: int | None = None, drop_path: float = 0.,
                 drop_rate: float = 0., attn_drop_rate: float = 0., with_cp: bool = False,
                 norm_cfg: dict = dict(type='BN'), attention: str | None = None):
        super().__init__()
        self.window_size = window_size
        self.with_cp = with_cp
        self.residual_scale = arch['residual_scale']
        self.norm1 = nn.LayerNorm(dims, eps=arch['norm_eps'])
        qk_scale = dims**-0.5 if arch['qk_scale'] == 'embed_dims' else None
        self.attn = PlainAttention(dims, num_heads, arch['qkv_bias'],
                                   attention or arch['attention'],
                                   transform, arch['re_attention_scale'], rel_pos_length,
                                   attn_drop_rate, drop_rate, norm_cfg, qk_scale)
        layer_scale = arch['layer_scale']
        self.ls1 = LayerScale(dims, layer_scale) if layer_scale else nn.Identity()
        hidden = int(dims * arch['mlp_ratio'])
        self.mlp = self.ffn = None
        # LocalViT's FFN has no LayerNorm before it
        self.norm2 = (None if arch['ffn'] == 'locality' else
                      nn.LayerNorm(dims, eps=arch['norm_eps']))
        if arch['ffn'] == 'mlp':
            self.mlp = LinearFFN(dims, hidden, drop=drop_rate)
        else:
            self.ffn = LocalityFFN(dims, hidden, arch['ffn_act'], arch['se_reduction'],
                                   norm_cfg, bias=arch['ffn'] == 'leff')
        self.ls2 = LayerScale(dims, layer_scale) if layer_scale else nn.Identity()
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def _attention(self, x, size):
        if not self.window_size:
            return self.attn(x, size)
        window = (self.window_size, self.window_size)
        grid = x.reshape(x.shape[0], *size, x.shape[-1])
        return windowed(lambda windows: self.attn(windows, window), grid, window).flatten(1, 2)

    def _branch(self, fn, norm, x):
        scale = self.residual_scale
        if scale == 1:
            return fn(norm(x))
        return fn(norm(x * scale)) / scale

    def _forward(self, x, size, num_prefix):
        x = x + self.drop_path(self.ls1(self._branch(lambda y: self._attention(y, size),
                                                      self.norm1, x)))
        if self.ffn is None:
            return x + self.drop_path(self.ls2(self._branch(self.mlp, self.norm2, x)))
        y = x if self.norm2 is None else self.norm2(x)
        patches = y[:, num_prefix:].transpose(1, 2).reshape(x.shape[0], -1, *size)
        patches = self.ffn(patches).flatten(2).transpose(1, 2)
        if self.norm2 is None:  # LocalViT
            patches = x[:, num_prefix:] + patches
            return torch.cat([x[:, :num_prefix], patches], dim=1) if num_prefix else patches
        y = torch.cat([y[:, :num_prefix], patches], dim=1) if num_prefix else patches
        return x + self.drop_path(self.ls2(y))

    def forward(self, x: torch.Tensor, size: tuple[int, int], num_prefix: int = 0):
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, size, num_prefix, use_reentrant=False)
        return self._forward(x, size, num_prefix)


class PatchEmbed(nn.Module):
    """ViT's stem: a p x p convolution with stride p (``proj``)."""

    def __init__(self, in_channels: int, dims: int, patch_size: int):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dims, patch_size, patch_size)

    def forward(self, x):
        return self.proj(x)


class ConvStem(nn.Module):
    """DeepViT-S/L's stem (stride p): a 7x7 stride-2 convolution to 64 channels, BatchNorm, ReLU,
    a 3x3 convolution, BatchNorm, ReLU (no biases), then a (p/2) x (p/2) convolution with stride
    p/2 to the width (``proj``, with bias). The layers, their names and shapes are the official
    ones (``patch_embed.{conv1,bn1,conv2,bn2,proj}``); the ReLUs after the BatchNorms (which have
    no weights) are the usual convolutional stem's and were not checked against the official
    code."""

    def __init__(self, in_channels: int, dims: int, patch_size: int, channels: int = 64,
                 norm_cfg: dict = dict(type='BN')):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 7, 2, 3, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, channels)[1]
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, channels)[1]
        self.proj = nn.Conv2d(channels, dims, patch_size // 2, patch_size // 2)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.proj(x)


class ImageToTokens(nn.Module):
    """CeiT's image-to-tokens stem (stride 16): a 7x7 stride-2 convolution without bias to 64
    channels, BatchNorm, a 3x3 stride-2 max-pool (no activation: the official code has none),
    then a 4x4 stride-4 convolution to the width (``proj``). The official
    ``i2t.backbone.{conv,bn}`` and ``i2t.proj`` are ``conv``, ``bn`` and ``proj`` here."""

    def __init__(self, in_channels: int, dims: int, channels: int = 64,
                 norm_cfg: dict = dict(type='BN')):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, channels, 7, 2, 3, bias=False)
        self.bn = build_norm_layer(norm_cfg, channels)[1]
        self.proj = nn.Conv2d(channels, dims, 4, 4)

    def forward(self, x):
        return self.proj(F.max_pool2d(self.bn(self.conv(x)), 3, 2, 1))


def soft_split(x: torch.Tensor, kernel: int, stride: int,
               padding: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """T2T-ViT's soft split of a (B, C, H, W) map: its overlapping kernel x kernel patches
    (zero-padded) as (B, N, C * kernel^2) tokens, channel-major (``nn.Unfold``'s order, which the
    next Linear's weights follow), and their (H', W') grid."""
    size = tuple((side + 2 * padding - kernel) // stride + 1 for side in x.shape[-2:])
    return F.unfold(x, kernel, padding=padding, stride=stride).transpose(1, 2), size


class TokensToTokenLayer(nn.Module):
    """A layer of T2T-ViT's tokens-to-token stem on (B, N, in_dims) tokens, narrowing them to
    ``dims`` with one head: ``y = v + proj(Attn(LN(x)))`` (the values are the shortcut, the width
    changing), then ``y + MLP(LN(y))`` (hidden width ``dims``); LayerNorms with torch's default
    epsilon, as the official layers.

    ``performer``: a Performer's attention (Choromanski et al., arXiv 2009.14794), linear in the
    number of tokens: with m = dims / 2 positive random features
    ``phi(u) = exp(W u - |u|^2 / 2) / sqrt(m)``, ``phi(q) (sum_j phi(k_j) v_j^T) /
    (phi(q) . sum_j phi(k_j) + 1e-8)``, an estimate of softmax(q k^T) v (unscaled logits). W
    (``random_projection``, m x dims, orthogonal rows of norm sqrt(m)) is drawn at construction
    and stays fixed: a frozen parameter, as in the official code, whose checkpoints hold the
    draw the model was trained with. q, k, v with bias. Otherwise softmax attention scaled by
    1 / sqrt(in_dims) (the input width, as the official layer), q, k, v without bias. The
    official Performer's dropout (0.1 after ``proj`` and the MLP, a pretraining regulariser) is
    left out.
    """

    def __init__(self, in_dims: int, dims: int, performer: bool):
        super().__init__()
        self.norm1 = nn.LayerNorm(in_dims)
        self.qkv = nn.Linear(in_dims, 3 * dims, bias=performer)
        self.proj = nn.Linear(dims, dims)
        self.norm2 = nn.LayerNorm(dims)
        self.mlp = LinearFFN(dims, dims)
        self.random_projection = None
        if performer:
            features = dims // 2
            self.random_projection = nn.Parameter(
                nn.init.orthogonal_(torch.empty(features, dims)) * features**0.5,
                requires_grad=False)

    def _performer(self, q, k, v):
        # The features' exponentials and sums under- and overflow in half precision: they are
        # computed in float32 at least (autocast off), as the official code computes them.
        dtype = torch.promote_types(v.dtype, torch.float32)
        with torch.autocast(v.device.type, enabled=False):
            q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
            projection = self.random_projection.to(dtype)
            scale = projection.shape[0]**-0.5

            def features(u):
                return torch.exp(u @ projection.T - u.square().sum(-1, keepdim=True) / 2) * scale

            phi_q, phi_k = features(q), features(k)
            numerator = phi_q @ (phi_k.transpose(1, 2) @ v)
            normaliser = phi_q @ phi_k.sum(dim=1).unsqueeze(-1)
            return numerator / (normaliser + 1e-8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        if self.random_projection is not None:
            y = self._performer(q, k, v).to(v.dtype)
        else:
            y = F.scaled_dot_product_attention(q[:, None], k[:, None], v[:, None],
                                               scale=x.shape[-1]**-0.5)[:, 0]
        y = v + self.proj(y)
        return y + self.mlp(self.norm2(y))


class TokensToToken(nn.Module):
    """T2T-ViT's tokens-to-token stem (stride 16) on a (B, C, H, W) image: soft splits (7x7
    stride 4 padding 2, then 3x3 stride 2 padding 1 twice), re-structured by ``attention1`` and
    ``attention2`` (:class:`TokensToTokenLayer`, 64 wide) after the first two, and the last
    split's tokens projected to the width (``project``); a (B, dims, H / 16, W / 16) map for H
    and W multiples of 16. The official code reshapes tokens to square maps; here they keep the
    input's (H, W). The splits overlap: apart from what the attention mixes in, output token
    (i, j) is a function of the 31 x 31 pixels from (16 i - 14, 16 j - 14) to (16 i + 16,
    16 j + 16), not of its 16 x 16 cell alone."""

    def __init__(self, in_channels: int, dims: int, performer: bool, token_dims: int = 64):
        super().__init__()
        self.attention1 = TokensToTokenLayer(in_channels * 7 * 7, token_dims, performer)
        self.attention2 = TokensToTokenLayer(token_dims * 3 * 3, token_dims, performer)
        self.project = nn.Linear(token_dims * 3 * 3, dims)

    def forward(self, x):
        batch = x.shape[0]
        x, size = soft_split(x, 7, 4, 2)
        x = self.attention1(x).transpose(1, 2).reshape(batch, -1, *size)
        x, size = soft_split(x, 3, 2, 1)
        x = self.attention2(x).transpose(1, 2).reshape(batch, -1, *size)
        x, size = soft_split(x, 3, 2, 1)
        return self.project(x).transpose(1, 2).reshape(batch, -1, *size)


class BottleneckStem(nn.Module):
    """So-ViT's convolutional stem (stride 16): a 3x3 convolution (with bias; no norm or
    activation after it) to 64 channels, a 3x3 stride-2 max-pool, three ResNet bottlenecks
    (``layers``: width 64, expansion 4, stride 2 in the 3x3 convolution, a 1x1 stride-2
    projection shortcut with BatchNorm), then a 1x1 convolution to the width (``proj``). The
    BatchNorms inside the bottlenecks have epsilon 1e-3, the shortcuts' the default, as in the
    official code (whose ``visual_tokens.tokens.{stem.0,stage,transition}`` are ``conv``,
    ``layers`` and ``proj`` here)."""

    def __init__(self, in_channels: int, dims: int, channels: int = 64,
                 norm_cfg: dict = dict(type='BN')):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, channels, 3, 1, 1)
        width = Bottleneck.expansion * channels
        layers = []
        for inplanes in (channels, width, width):
            shortcut = nn.Sequential(nn.Conv2d(inplanes, width, 1, 2, bias=False),
                                     build_norm_layer(norm_cfg, width)[1])
            layers.append(Bottleneck(
                inplanes, channels, 2, shortcut,
                norm_layer=lambda c: build_norm_layer(dict(norm_cfg, eps=1e-3), c)[1]))
        self.layers = nn.Sequential(*layers)
        self.proj = nn.Conv2d(width, dims, 1)

    def forward(self, x):
        return self.proj(self.layers(F.max_pool2d(self.conv(x), 3, 2, 1)))


def sinusoid_position_table(num_positions: int, dims: int) -> torch.Tensor:
    """The fixed 1-D position table of T2T-ViT and So-ViT (the Transformer's sinusoid encoding),
    (1, num_positions, dims): position p, channel 2i + r holds sin (r = 0) or cos (r = 1) of
    p / 10000^(2i / dims)."""
    channels = torch.arange(dims)
    angles = (torch.arange(num_positions, dtype=torch.float64)[:, None]
              / 10000**(2 * (channels // 2) / dims).double())
    table = torch.where(channels % 2 == 0, angles.sin(), angles.cos())
    return table[None].to(torch.get_default_dtype())


def init_gpsa_locally_(attn: PlainAttention, strength: float) -> None:
    """ConViT's local initialisation of a GPSA: values the identity, and head h1 + k h2 of the
    k x k = H heads attending around the offset (dx, dy) = (h2 - c, h1 - c) from the query (c:
    the centre of the k x k neighbourhood), sharper with ``strength``; gates at 1."""
    heads = attn.num_heads
    side = int(heads**0.5)
    centre = (side - 1) / 2 if side % 2 == 0 else side // 2
    attn.v.weight.copy_(torch.eye(attn.v.weight.shape[0]))
    for h1 in range(side):
        for h2 in range(side):
            attn.pos_proj.weight[h1 + side * h2] = strength * torch.tensor(
                [2. * (h2 - centre), 2. * (h1 - centre), -1.])
    attn.gating_param.fill_(1.)


def vitdet_global_blocks(depth: int) -> tuple[int, ...]:
    """ViTDet's global-attention blocks: the last of each quarter of the depth ((2, 5, 8, 11) for
    12 blocks, (5, 11, 17, 23) for 24, (7, 15, 23, 31) for 32)."""
    return tuple((i + 1) * depth // 4 - 1 for i in range(4))


class PlainViT(DenseBackbone):
    """Base of the plain-ViT families (not registered): the ViT encoder with the options of
    :class:`PlainBlock`, as a dense backbone. A registered subclass per paper holds its presets
    (``arch_zoo``), the options it fixes (``fixed_arch``) and those an arch dict may set
    (``arch_defaults``).

    Args:
        arch: a preset name (see the subclass's ``arch_zoo``) or a dict with ``embed_dims``,
            ``depth`` and ``num_heads`` and optionally the keys of ``arch_defaults``.
        in_channels: input image channels.
        out_indices: blocks whose patch tokens to output, each as a (B, C, ceil(H / p),
            ceil(W / p)) map (p: the patch size); None (the default) outputs every block. mmseg's
            MultiLevelNeck takes four, e.g. (2, 5, 8, 11) of 12 blocks; ViTDet the last.
            Only the blocks up to the last one requested are built.
        with_cls_token: keep the class (and distillation) tokens in the blocks, as pretrained
            (default). False drops them from the input (ViTDet); window attention and relative
            positions need that. Their position rows stay in the table, unused.
        final_norm: apply the release's final LayerNorm (``norm``) to the last block's tokens
            (mmseg's ``final_norm``); the last block must then be in ``out_indices``.
        window_size: if set, attention inside windows of this many tokens (zero-padded map),
            except in ``global_blocks`` (ViTDet's hybrid window attention).
        global_blocks: the blocks that attend globally when ``window_size`` is set; None: the last
            of each quarter of the depth (ViTDet: (2, 5, 8, 11) for ViT-B).
        use_rel_pos: add decomposed relative positions (MViTv2, ViTDet) in every block but
            ConViT's GPSA blocks (which have a positional score of their own); tables of
            2 * window - 1 rows in window blocks and 2 * (pretrain_img_size / p) - 1 in global
            ones, zero-initialised, resized linearly to the actual sizes.
        pretrain_img_size: the pretraining input size (int, or (H, W)) that the position table
            (and, unless ``rel_pos_img_size``, the global relative-position tables) are sized for;
            None: the arch's.
        rel_pos_img_size: the input size (int, or (H, W)) the global blocks' relative-position
            tables are sized for (detectron2's ``img_size``: ViTDet trains at 1024, 127-row
            tables for ViT-B/16, so its checkpoints load as they are); None: ``pretrain_img_size``.
            Tables are resized linearly to other sizes either way.
        drop_rate, attn_drop_rate: dropout after the projections and on the attention map.
        drop_path_rate: stochastic depth, linear over the blocks (CaiT: the same in every block,
            as in the paper).
        frozen_stages: freeze the stem, tokens and position table (0) and blocks 1..k (with
            CPVT's PEG after block 1, their output norms and the final norm after the last
            block); -1 freezes nothing.
        norm_eval: keep BatchNorm layers (DeepViT's re-attention and stem, LocalViT's FFN) in
            eval mode: they would otherwise use the statistics of small dense-prediction batches.
        with_cp: activation checkpointing of every block.
        norm_cfg: the BatchNorms of DeepViT's re-attention and stem and of LocalViT's FFN
            (``dict(type='SyncBN')`` for multi-GPU dense training); the other families have none.
        out_norm_cfg: a norm applied to each output map (e.g. ``dict(type='LN2d', eps=1e-6)``),
            or None (default): the tokens as they are.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH)`` loads a local checkpoint (official,
            timm or mmvitx layout, converted on load).
    """

    arch_required = frozenset({'embed_dims', 'depth', 'num_heads'})
    # the options the family fixes; an arch dict cannot override them
    fixed_arch: dict = {}
    uniform_drop_path = False
    # the block class, built with PlainBlock's arguments (TNT's adds an inner transformer)
    block_cls = PlainBlock
    keys_missing_from_release = (r'out_norms\.', r'blocks\.\d+\.attn\.rel_pos_[hw]$')
    pretrain_size_keys = (r'pos_embed$', r'blocks\.\d+\.attn\.rel_pos_[hw]$')
    # level_strides and num_stages follow the preset (patch size, depth): set per instance; the
    # class values are those of the first preset, which the generic tests build.

    def __init__(self,
                 arch: str | dict = 'b',
                 in_channels: int = 3,
                 out_indices: tuple[int, ...] | None = None,
                 with_cls_token: bool = True,
                 final_norm: bool = False,
                 window_size: int | None = None,
                 global_blocks: tuple[int, ...] | None = None,
                 use_rel_pos: bool = False,
                 pretrain_img_size: int | tuple[int, int] | None = None,
                 rel_pos_img_size: int | tuple[int, int] | None = None,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 norm_cfg: dict = dict(type='BN'),
                 out_norm_cfg: dict | None = None,
                 init_cfg: dict | None = None):
        super().__init__(init_cfg=init_cfg)
        self.arch = self.resolve_arch(arch)
        dims, depth, heads = (self.arch[k] for k in ('embed_dims', 'depth', 'num_heads'))
        patch = self.arch['patch_size']
        self.depth = depth
        self.patch_size = patch
        self.level_strides = (patch, ) * depth
        self.num_stages = depth
        out_indices = tuple(range(depth)) if out_indices is None else out_indices
        self.out_indices = check_outputs_and_freezing(out_indices, frozen_stages, unit='block',
                                                      num=depth, num_stages=depth)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.num_features = (dims, ) * depth
        num_tokens = int(self.arch['cls_token']) + int(self.arch['dist_token'])
        self.num_prefix = num_tokens if with_cls_token else 0
        if (window_size or use_rel_pos) and self.num_prefix:
            raise ValueError(
                f'window_size and use_rel_pos need with_cls_token=False: {type(self).__name__} '
                f'{self.arch_name(arch)} has {num_tokens} class/distillation token(s), which '
                f'attend globally and have no position on the map (ViTDet drops them)')
        if final_norm and depth - 1 not in self.out_indices:
            raise ValueError(f'final_norm normalises the last block ({depth - 1}); it is not in '
                             f'out_indices {self.out_indices}')
        if global_blocks is None:
            global_blocks = vitdet_global_blocks(depth) if window_size else ()
        global_blocks = tuple(global_blocks)
        if any(not 0 <= i < depth for i in global_blocks):
            raise ValueError(f'global_blocks must be block indices in 0..{depth - 1}, got '
                             f'{global_blocks}')

        pretrain_img_size = pretrain_img_size or self.arch['pretrain_img_size']
        if isinstance(pretrain_img_size, int):
            self.pretrain_grid = pretrain_img_size // patch
            grid_hw = (self.pretrain_grid, self.pretrain_grid)
        else:
            grid_hw = self.pretrain_grid = tuple(side // patch for side in pretrain_img_size)
        if rel_pos_img_size is None:
            rel_pos_grid = grid_hw
        elif isinstance(rel_pos_img_size, int):
            rel_pos_grid = (rel_pos_img_size // patch, ) * 2
        else:
            rel_pos_grid = tuple(side // patch for side in rel_pos_img_size)
        self.patch_embed = self._build_patch_embed(in_channels, norm_cfg)
        self.cls_token = (nn.Parameter(torch.zeros(1, 1, dims))
                          if self.arch['cls_token'] and with_cls_token else None)
        self.dist_token = (nn.Parameter(torch.zeros(1, 1, dims))
                           if self.arch['dist_token'] and with_cls_token else None)
        # The table keeps the rows of the tokens (unused without them), so checkpoints load;
        # ConViT's class token joins later, without a row.
        self.cls_token_block = self.arch['cls_token_block']
        self.num_pos_prefix = 0 if self.cls_token_block else num_tokens
        num_positions = self.num_pos_prefix + grid_hw[0] * grid_hw[1]
        self.pos_embed = None
        if self.arch['position'] == 'abs':
            self.pos_embed = nn.Parameter(torch.zeros(1, num_positions, dims))
        elif self.arch['position'] == 'sinusoid':  # a constant, stored as the releases store it
            self.pos_embed = nn.Parameter(sinusoid_position_table(num_positions, dims),
                                          requires_grad=False)

        num_built = max(self.out_indices) + 1
        if self.uniform_drop_path:
            rates = [drop_path_rate] * depth
        else:
            rates = torch.linspace(0, drop_path_rate, depth, device='cpu').tolist()
        transform_blocks = self.arch['re_attention_blocks']
        transform_from = 0 if transform_blocks is None else depth - transform_blocks
        self.blocks = nn.ModuleList()
        for i in range(num_built):
            window = window_size if window_size and i not in global_blocks else 0
            rel_pos_length = None
            gpsa = i < self.arch['gpsa_blocks']  # GPSA has a positional score of its own
            if use_rel_pos and not gpsa:
                rel_pos_length = 2 * (window or max(rel_pos_grid)) - 1
            self.blocks.append(self.block_cls(
                dims, heads, self.arch, i >= transform_from, window, rel_pos_length, rates[i],
                drop_rate, attn_drop_rate, with_cp, norm_cfg,
                'gpsa' if gpsa else None))
        # CPVT's position encoding generator, after the first block.
        self.peg = (nn.Conv2d(dims, dims, 3, 1, 1, groups=dims)
                    if self.arch['position'] == 'peg' else None)
        self.norm = nn.LayerNorm(dims, eps=self.arch['norm_eps']) if final_norm else None
        self.out_norms = nn.ModuleDict(
            {str(i): build_norm_layer(out_norm_cfg, dims)[1]
             for i in self.out_indices} if out_norm_cfg else {})
        self._finish_init()

    def _build_patch_embed(self, in_channels: int, norm_cfg: dict) -> nn.Module:
        dims, patch, stem = self.arch['embed_dims'], self.arch['patch_size'], self.arch['stem']
        if stem == 'conv':
            return ConvStem(in_channels, dims, patch, norm_cfg=norm_cfg)
        if stem == 'image-to-tokens':
            return ImageToTokens(in_channels, dims, norm_cfg=norm_cfg)
        if stem in ('t2t-performer', 't2t-transformer'):
            return TokensToToken(in_channels, dims, performer=stem == 't2t-performer')
        if stem == 'bottleneck':
            return BottleneckStem(in_channels, dims, norm_cfg=norm_cfg)
        return PatchEmbed(in_channels, dims, patch)

    @staticmethod
    def arch_name(arch) -> str:
        return repr(arch) if isinstance(arch, str) else 'arch'

    @classmethod
    def resolve_arch(cls, arch: str | dict) -> dict:
        resolved = super().resolve_arch(arch)
        return {**BASE_ARCH, **cls.fixed_arch, **resolved}

    @classmethod
    def _check_arch(cls, arch):
        full = {**BASE_ARCH, **cls.fixed_arch, **arch}
        if full['embed_dims'] % full['num_heads']:
            raise ValueError(f'{cls.__name__} arch embed_dims ({full["embed_dims"]}) must be '
                             f'divisible by num_heads ({full["num_heads"]})')
        blocks = full['re_attention_blocks']
        if blocks is not None and not 0 <= blocks <= full['depth']:
            raise ValueError(f'{cls.__name__} arch re_attention_blocks must be in 0..depth '
                             f'({full["depth"]}), got {blocks}')
        choices = dict(stem=STEM_STRIDES, position=('abs', 'peg', 'sinusoid'),
                       attention=('plain', 'talking_heads', 're_attention'),
                       qk_scale=('head_dims', 'embed_dims'), ffn=('mlp', 'locality', 'leff'),
                       ffn_act=tuple(LocalityFFN.activations))
        for key, valid in choices.items():
            if full[key] not in valid:
                raise ValueError(f'{cls.__name__} arch {key} must be one of {list(valid)}, got '
                                 f'{full[key]!r}')
        if full['stem'] == 'conv' and full['patch_size'] % 2:
            raise ValueError(f"{cls.__name__} arch stem='conv' needs an even patch_size, got "
                             f"{full['patch_size']}")
        stride = STEM_STRIDES[full['stem']]
        if stride and full['patch_size'] != stride:
            raise ValueError(f"{cls.__name__} arch stem={full['stem']!r} has stride {stride}: "
                             f"patch_size must be {stride}, got {full['patch_size']}")

    @classmethod
    def pretrain_img_size_of(cls, state_dict: dict) -> int | None:
        # The table holds the class/distillation rows and a square grid of the pretraining size.
        pos_embed = state_dict.get('pos_embed')
        proj = state_dict.get('patch_embed.proj.weight')
        stride = STEM_STRIDES[cls.resolve_arch(cls.default_arch)['stem']]
        if pos_embed is None or (proj is None and not stride):
            return None
        # a patch embedding's kernel is its stride; DeepViT's convolutional stem halves it first
        patch = stride or proj.shape[-1] * (2 if 'patch_embed.conv1.weight' in state_dict else 1)
        for prefix in (0, 1, 2):
            grid = math.isqrt(max(pos_embed.shape[1] - prefix, 0))
            if grid * grid == pos_embed.shape[1] - prefix:
                return grid * patch
        return None

    def _tokens(self, x: torch.Tensor):
        """Image -> (B, prefix + H * W, C) tokens with their positions, and (H, W)."""
        height, width = x.shape[-2:]
        patch = self.patch_size
        x = F.pad(x, (0, pad_to_multiple(width, patch), 0, pad_to_multiple(height, patch)))
        x = self.patch_embed(x)
        size = tuple(x.shape[-2:])
        return self._add_positions(x.flatten(2).transpose(1, 2), size), size

    def _add_positions(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """(B, H * W, C) patch tokens -> with the position table (resized to (H, W)) and the
        class/distillation tokens in front."""
        pos_prefix = None
        if self.pos_embed is not None:
            pos = resize_abs_pos_embed(self.pos_embed, self.num_pos_prefix, self.pretrain_grid,
                                       size)
            x = x + pos[:, self.num_pos_prefix:]
            pos_prefix = pos[:, :self.num_pos_prefix]
        prefix = [t for t in (self.cls_token, self.dist_token) if t is not None]
        if prefix and not self.cls_token_block:
            tokens = torch.cat(prefix, dim=1)
            if pos_prefix is not None:
                tokens = tokens + pos_prefix
            x = torch.cat([tokens.expand(x.shape[0], -1, -1), x], dim=1)
        return x

    def _peg(self, x, size):
        prefix = self.num_prefix
        grid = x[:, prefix:].transpose(1, 2).reshape(x.shape[0], -1, *size)
        grid = (grid + self.peg(grid)).flatten(2).transpose(1, 2)
        return torch.cat([x[:, :prefix], grid], dim=1) if prefix else grid

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x, size = self._tokens(x)
        outs = []
        for i, block in enumerate(self.blocks):
            if i and i == self.cls_token_block and self.cls_token is not None:
                x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
            num_prefix = self.num_prefix if i >= self.cls_token_block else 0
            x = block(x, size, num_prefix)
            if i == 0 and self.peg is not None:
                x = self._peg(x, size)
            x = self._after_block(i, x, size, num_prefix, outs)
        return tuple(outs)

    def _after_block(self, i: int, x: torch.Tensor, size: tuple[int, int], num_prefix: int,
                     outs: list) -> torch.Tensor:
        """Block ``i``'s tokens -> the final norm after the last block; the patch tokens appended
        to ``outs`` as a (B, C, H, W) map (through the output norm) where ``i`` is an output."""
        if i == self.depth - 1 and self.norm is not None:
            x = self.norm(x)
        if i in self.out_indices:
            out = x[:, num_prefix:].transpose(1, 2).reshape(x.shape[0], -1, *size)
            if str(i) in self.out_norms:
                out = self.out_norms[str(i)](out)
            outs.append(out.contiguous())
        return x

    def _rel_pos_tables(self):
        return [table for block in self.blocks
                for table in (block.attn.rel_pos_h, block.attn.rel_pos_w) if table is not None]

    def _learned_pos_embed(self):
        return self.pos_embed if self.arch['position'] == 'abs' else None

    def _no_weight_decay_parameters(self):
        scales = [m.weight for m in self.modules() if isinstance(m, LayerScale)]
        return [self._learned_pos_embed(), self.cls_token, self.dist_token,
                *self._rel_pos_tables(), *scales]

    def _constant_parameters(self):
        projections = [m.random_projection for m in self.modules()
                       if isinstance(m, TokensToTokenLayer)]
        return [self.pos_embed if self.arch['position'] == 'sinusoid' else None, *projections]

    def _init_layers(self):
        init_transformer_weights(self, (self._learned_pos_embed(), self.cls_token,
                                        self.dist_token))
        with torch.no_grad():
            for table in self._rel_pos_tables():  # ViTDet: zero-initialised
                table.zero_()
            for block in self.blocks:
                if block.attn.mode == 'gpsa':
                    init_gpsa_locally_(block.attn, self.arch['locality_strength'])

    def keys_not_built(self) -> tuple[str, ...]:
        keys = []
        if len(self.blocks) < self.depth:
            later = '|'.join(map(str, range(len(self.blocks), self.depth)))
            keys.append(rf'blocks\.({later})\.')
        if self.norm is None:
            keys.append(r'norm\.')
        if self.arch['cls_token'] and self.cls_token is None:
            keys.append(r'cls_token$')
        if self.arch['dist_token'] and self.dist_token is None:
            keys.append(r'dist_token$')
        return tuple(keys)

    @property
    def num_layers(self) -> int:
        """The layers of layer-wise learning-rate decay
        (``LayerwiseLRDecayOptimWrapperConstructor``): the blocks."""
        return self.depth

    def layer_id(self, name: str) -> int:
        """The layer of a parameter for layer-wise learning-rate decay, as in BEiT and ViTDet
        (detectron2 ``get_vit_lr_decay_rate``): 0 for the patch embedding, the tokens and the
        position table, ``k + 1`` for block ``k`` (CPVT's PEG, which follows block 0: 1), and
        ``num_layers + 1`` for the rest (output norms, the final norm)."""
        if name.startswith(('patch_embed.', 'pos_embed', 'cls_token', 'dist_token')):
            return 0
        if name.startswith('blocks.'):
            return int(name.split('.')[1]) + 1
        if name.startswith('peg.'):
            return 1
        return self.num_layers + 1

    def _frozen_modules(self):
        if self.frozen_stages >= 0:
            yield self.patch_embed
            yield from (p for p in (self.cls_token, self.dist_token, self.pos_embed)
                        if p is not None)
        for i in range(min(self.frozen_stages, len(self.blocks))):
            yield self.blocks[i]
            if i == 0 and self.peg is not None:
                yield self.peg
            if str(i) in self.out_norms:
                yield self.out_norms[str(i)]
            if i == self.depth - 1 and self.norm is not None:
                yield self.norm


def _family(cls):
    """Give a family's constructor its own ``arch`` default (``default_arch``), with the base
    class's signature otherwise (the configs, ``inspect.signature`` and the registries see every
    argument)."""
    base_init = PlainViT.__init__

    def __init__(self, arch=cls.default_arch, *args, **kwargs):
        base_init(self, arch, *args, **kwargs)

    signature = inspect.signature(base_init)
    __init__.__signature__ = signature.replace(parameters=[
        p.replace(default=cls.default_arch) if p.name == 'arch' else p
        for p in signature.parameters.values()])
    __init__.__doc__ = base_init.__doc__
    cls.__init__ = __init__
    first = cls.arch_zoo[next(iter(cls.arch_zoo))]
    cls.level_strides = (first.get('patch_size', 16), ) * first['depth']
    cls.num_stages = first['depth']
    return register_backbone(cls)


_VIT_DEFAULTS = dict(patch_size=16, mlp_ratio=4, pretrain_img_size=224, qkv_bias=True)
# A window and relative positions: ViTDet's dense options (the generic tests build it).
_VITDET_VARIANT = (dict(with_cls_token=False, window_size=7, use_rel_pos=True), )


@_family
class ViT(PlainViT):
    """ViT (`arXiv 2010.11929 <https://arxiv.org/abs/2010.11929>`_) as a dense backbone.

    Presets: the official variants (google-research/vision_transformer ``vit_jax/configs/
    models.py``): Ti/16 ``'ti'``, S/16 ``'s'``, B/16 ``'b'``, B/32 ``'b-32'``, L/16 ``'l'``,
    L/32 ``'l-32'`` and H/14 ``'h'`` (the outputs' stride is the patch size). Weights: timm's
    conversions of the official checkpoints (``vit_*``), converted on load. See
    :class:`PlainViT` for the arguments.
    """

    family = 'vit'
    arch_zoo = {
        'ti': dict(embed_dims=192, depth=12, num_heads=3),
        's': dict(embed_dims=384, depth=12, num_heads=6),
        'b': dict(embed_dims=768, depth=12, num_heads=12),
        'b-32': dict(embed_dims=768, depth=12, num_heads=12, patch_size=32),
        'l': dict(embed_dims=1024, depth=24, num_heads=16),
        'l-32': dict(embed_dims=1024, depth=24, num_heads=16, patch_size=32),
        'h': dict(embed_dims=1280, depth=32, num_heads=16, patch_size=14),
    }
    arch_aliases = {'tiny': 'ti', 't': 'ti', 'small': 's', 'base': 'b', 'large': 'l',
                    'huge': 'h', 'ti-16': 'ti', 's-16': 's', 'b-16': 'b', 'l-16': 'l',
                    'h-14': 'h'}
    default_arch = 'b'
    arch_defaults = _VIT_DEFAULTS
    no_weight_decay_keys = ('pos_embed', 'cls_token', 'rel_pos_h', 'rel_pos_w')
    variants = _VITDET_VARIANT
    reference = 'mmvitx.testing.references:build_vit_pair'
    # ViTDet's windowed backbone has a reference too (timm's SAM encoder)
    reference_options = frozenset({'with_cls_token', 'window_size', 'use_rel_pos',
                                   'pretrain_img_size', 'out_indices'})


@_family
class DeiT(PlainViT):
    """DeiT (`arXiv 2012.12877 <https://arxiv.org/abs/2012.12877>`_) as a dense backbone: ViT's
    architecture; the distilled presets (``'*-distilled'``) keep the distillation token in the
    blocks (dropped from the outputs, like the class token). Presets (facebookresearch/deit
    ``models.py``): Ti ``'t'``, S ``'s'``, B ``'b'``, B at 384 ``'b-384'`` and their distilled
    models. See :class:`PlainViT` for the arguments.
    """

    family = 'deit'
    arch_zoo = {
        't': dict(embed_dims=192, depth=12, num_heads=3),
        's': dict(embed_dims=384, depth=12, num_heads=6),
        'b': dict(embed_dims=768, depth=12, num_heads=12),
        'b-384': dict(embed_dims=768, depth=12, num_heads=12, pretrain_img_size=384),
        't-distilled': dict(embed_dims=192, depth=12, num_heads=3, dist_token=True),
        's-distilled': dict(embed_dims=384, depth=12, num_heads=6, dist_token=True),
        'b-distilled': dict(embed_dims=768, depth=12, num_heads=12, dist_token=True),
        'b-distilled-384': dict(embed_dims=768, depth=12, num_heads=12, dist_token=True,
                                pretrain_img_size=384),
    }
    arch_aliases = {'tiny': 't', 'ti': 't', 'small': 's', 'base': 'b', 't-dist': 't-distilled',
                    's-dist': 's-distilled', 'b-dist': 'b-distilled',
                    'b-dist-384': 'b-distilled-384'}
    default_arch = 's'
    arch_defaults = dict(_VIT_DEFAULTS, dist_token=False)
    no_weight_decay_keys = ('pos_embed', 'cls_token', 'dist_token', 'rel_pos_h', 'rel_pos_w')
    variants = _VITDET_VARIANT
    reference = 'mmvitx.testing.references:build_deit_pair'


@_family
class CaiT(PlainViT):
    """CaiT (`arXiv 2103.17239 <https://arxiv.org/abs/2103.17239>`_) as a dense backbone: its
    self-attention stage (talking-heads attention, LayerScale on both branches, a position table
    without a class row). The class-attention stage is left out: it updates only the class
    token, from the patch tokens of the last self-attention block, which it cannot change, so no
    dense output depends on it. Stochastic depth is the same in every block, as in the paper.
    Presets (facebookresearch/deit ``cait_models.py``; the suffix is the pretraining size of
    the released weights): XXS24, XXS36, XS24, S24, S36, M36, M48. See :class:`PlainViT`.
    """

    family = 'cait'
    arch_zoo = {
        'xxs24': dict(embed_dims=192, depth=24, num_heads=4, layer_scale=1e-5),
        'xxs24-384': dict(embed_dims=192, depth=24, num_heads=4, layer_scale=1e-5,
                          pretrain_img_size=384),
        'xxs36': dict(embed_dims=192, depth=36, num_heads=4, layer_scale=1e-5),
        'xxs36-384': dict(embed_dims=192, depth=36, num_heads=4, layer_scale=1e-5,
                          pretrain_img_size=384),
        'xs24-384': dict(embed_dims=288, depth=24, num_heads=6, layer_scale=1e-5,
                         pretrain_img_size=384),
        's24': dict(embed_dims=384, depth=24, num_heads=8, layer_scale=1e-5),
        's24-384': dict(embed_dims=384, depth=24, num_heads=8, layer_scale=1e-5,
                        pretrain_img_size=384),
        's36-384': dict(embed_dims=384, depth=36, num_heads=8, layer_scale=1e-6,
                        pretrain_img_size=384),
        'm36-384': dict(embed_dims=768, depth=36, num_heads=16, layer_scale=1e-6,
                        pretrain_img_size=384),
        'm48-448': dict(embed_dims=768, depth=48, num_heads=16, layer_scale=1e-6,
                        pretrain_img_size=448),
    }
    arch_aliases = {'xxs24-224': 'xxs24', 'xxs36-224': 'xxs36', 's24-224': 's24',
                    'xs24': 'xs24-384', 's36': 's36-384', 'm36': 'm36-384', 'm48': 'm48-448'}
    default_arch = 's24'
    arch_defaults = dict(_VIT_DEFAULTS, layer_scale=1e-5)
    fixed_arch = dict(cls_token=False, attention='talking_heads')
    uniform_drop_path = True
    no_weight_decay_keys = ('pos_embed', 'ls1', 'ls2', 'rel_pos_h', 'rel_pos_w')
    variants = _VITDET_VARIANT
    reference = 'mmvitx.testing.references:build_cait_pair'


@_family
class DeepViT(PlainViT):
    """DeepViT (`arXiv 2103.11886 <https://arxiv.org/abs/2103.11886>`_) as a dense backbone:
    re-attention (see :class:`PlainAttention`). Presets (zhoudaquan/dvit_repo): ``'16b'``,
    ``'24b'``, ``'32b'`` (re-attention in every block), ``'s'`` (D 396, re-attention in the last
    5 of 16 blocks, scaled by the attention scale) and ``'l'`` (D 420, the last 12 of 32), both
    with the residual scale 0.5 and a convolutional stem. Its BatchNorms normalise attention maps:
    dense training with a few images per GPU wants ``norm_eval=True`` or SyncBN. See
    :class:`PlainViT`.
    """

    family = 'deepvit'
    arch_zoo = {
        '16b': dict(embed_dims=384, depth=16, num_heads=12),
        '24b': dict(embed_dims=384, depth=24, num_heads=12),
        '32b': dict(embed_dims=384, depth=32, num_heads=12),
        's': dict(embed_dims=396, depth=16, num_heads=12, re_attention_blocks=5,
                  re_attention_scale=True, residual_scale=0.5, stem='conv'),
        'l': dict(embed_dims=420, depth=32, num_heads=12, re_attention_blocks=12,
                  residual_scale=0.5, stem='conv'),
    }
    arch_aliases = {'16': '16b', '24': '24b', '32': '32b', 'small': 's', 'large': 'l'}
    default_arch = '16b'
    arch_defaults = dict(_VIT_DEFAULTS, mlp_ratio=3, re_attention_blocks=None,
                         re_attention_scale=False, residual_scale=1., stem='patch')
    fixed_arch = dict(attention='re_attention')
    no_weight_decay_keys = ('pos_embed', 'cls_token', 'rel_pos_h', 'rel_pos_w')
    variants = _VITDET_VARIANT


@_family
class CPVT(PlainViT):
    """CPVT (`arXiv 2102.10882 <https://arxiv.org/abs/2102.10882>`_) as a dense backbone: DeiT's
    Ti/S/B without a position table and with a position encoding generator (a depthwise 3x3
    convolution with bias and a residual, zero padding) on the token map after the first block;
    the class token bypasses it. ``'-gap'`` presets have no class token. No official code or
    weights of the plain CPVT exist; written from the paper. See :class:`PlainViT`.
    """

    family = 'cpvt'
    arch_zoo = {
        'ti': dict(embed_dims=192, depth=12, num_heads=3),
        'ti-gap': dict(embed_dims=192, depth=12, num_heads=3, cls_token=False),
        's': dict(embed_dims=384, depth=12, num_heads=6),
        's-gap': dict(embed_dims=384, depth=12, num_heads=6, cls_token=False),
        'b': dict(embed_dims=768, depth=12, num_heads=12),
        'b-gap': dict(embed_dims=768, depth=12, num_heads=12, cls_token=False),
    }
    arch_aliases = {'tiny': 'ti', 't': 'ti', 'small': 's', 'base': 'b', 't-gap': 'ti-gap'}
    default_arch = 's'
    arch_defaults = dict(patch_size=16, mlp_ratio=4, qkv_bias=True, cls_token=True)
    fixed_arch = dict(position='peg')
    no_weight_decay_keys = ('cls_token', 'rel_pos_h', 'rel_pos_w')
    variants = _VITDET_VARIANT


@_family
class LocalViT(PlainViT):
    """LocalViT (`arXiv 2104.05707 <https://arxiv.org/abs/2104.05707>`_) as a dense backbone:
    DeiT with LocalViT's convolutional FFN (:class:`LocalityFFN`) on the token map, of any shape
    (the official code assumes a square one). Presets (ofsoundof/LocalViT ``models/localvit.py``):
    ``'t'`` (h-swish, SE of width 4: ``localvit_tiny_mlp4_act3_r192``), ``'tiny-mlp6-act1'``
    (ReLU6, FFN x6, no SE), ``'t-se4'`` (SE of width FFN / 4) and ``'s'``. Its BatchNorms want
    ``norm_eval=True`` or SyncBN for dense training with small batches. See :class:`PlainViT`.
    """

    family = 'localvit'
    arch_zoo = {
        't': dict(embed_dims=192, depth=12, num_heads=4, se_reduction=192),
        'tiny-mlp6-act1': dict(embed_dims=192, depth=12, num_heads=4, mlp_ratio=6,
                               ffn_act='relu6', se_reduction=None),
        't-se4': dict(embed_dims=192, depth=12, num_heads=4, se_reduction=4),
        's': dict(embed_dims=384, depth=12, num_heads=8, se_reduction=384),
    }
    arch_aliases = {'tiny': 't', 'small': 's', 'localvit_tiny_mlp6_act1': 'tiny-mlp6-act1',
                    'localvit_tiny_mlp4_act3_r4': 't-se4', 'localvit_tiny_mlp4_act3_r192': 't',
                    'localvit_small_mlp4_act3_r384': 's'}
    default_arch = 's'
    arch_defaults = dict(_VIT_DEFAULTS, ffn_act='hswish', se_reduction=4)
    fixed_arch = dict(ffn='locality')
    no_weight_decay_keys = ('pos_embed', 'cls_token', 'rel_pos_h', 'rel_pos_w')
    variants = _VITDET_VARIANT


@_family
class ConViT(PlainViT):
    """ConViT (`arXiv 2103.10697 <https://arxiv.org/abs/2103.10697>`_) as a dense backbone:
    gated positional self-attention (:meth:`PlainAttention._gpsa`, locally initialised) in the
    first 10 blocks, then ViT blocks; the class token joins before block 10, without a row in the
    position table. The positional score takes the offsets of the actual (H, W) grid, so any
    input size and shape works (the official code assumes a square one). Presets
    (facebookresearch/convit ``models.py``): Ti, S, B (48 channels per head; no qkv bias). See
    :class:`PlainViT` for the arguments.
    """

    family = 'convit'
    arch_zoo = {
        'ti': dict(embed_dims=192, depth=12, num_heads=4),
        's': dict(embed_dims=432, depth=12, num_heads=9),
        'b': dict(embed_dims=768, depth=12, num_heads=16),
    }
    arch_aliases = {'tiny': 'ti', 't': 'ti', 'small': 's', 'base': 'b'}
    default_arch = 'ti'
    arch_defaults = dict(_VIT_DEFAULTS, qkv_bias=False, gpsa_blocks=10, locality_strength=1.,
                         cls_token_block=10)
    no_weight_decay_keys = ('pos_embed', 'cls_token', 'rel_pos_h', 'rel_pos_w')
    variants = _VITDET_VARIANT
    reference = 'mmvitx.testing.references:build_convit_pair'


@_family
class CeiT(PlainViT):
    """CeiT (`arXiv 2103.11816 <https://arxiv.org/abs/2103.11816>`_) as a dense backbone: the
    image-to-tokens stem (:class:`ImageToTokens`, stride 16) and, after each block's second
    LayerNorm, the locally-enhanced FFN (:class:`LocalityFFN` with biases and GELU) on the
    patch-token map of any shape (the official code assumes a square one). The class token stays
    in the blocks and passes the LeFF as in the official code (:class:`PlainBlock`), with which
    the released weights were trained. The layer-wise class-token attention (LCA), its layer
    embedding and the head are left out: they read the blocks' class tokens only. Presets
    (coeusguo/ceit ``ceit_model.py``): T, S, B at 224 and T, S at 384 (``'t-384'``,
    ``'s-384'``). Its BatchNorms want ``norm_eval=True`` or SyncBN for dense training with small
    batches. See :class:`PlainViT` for the arguments.
    """

    family = 'ceit'
    arch_zoo = {
        't': dict(embed_dims=192, depth=12, num_heads=3),
        's': dict(embed_dims=384, depth=12, num_heads=6),
        'b': dict(embed_dims=768, depth=12, num_heads=12),
        't-384': dict(embed_dims=192, depth=12, num_heads=3, pretrain_img_size=384),
        's-384': dict(embed_dims=384, depth=12, num_heads=6, pretrain_img_size=384),
    }
    arch_aliases = {'tiny': 't', 'ti': 't', 'small': 's', 'base': 'b', 'tiny-384': 't-384',
                    'ti-384': 't-384', 'small-384': 's-384', 'ceit_tiny_patch16_224': 't',
                    'ceit_small_patch16_224': 's', 'ceit_base_patch16_224': 'b',
                    'ceit_tiny_patch16_384': 't-384', 'ceit_small_patch16_384': 's-384'}
    default_arch = 's'
    arch_defaults = dict(mlp_ratio=4, pretrain_img_size=224, qkv_bias=True)
    fixed_arch = dict(stem='image-to-tokens', ffn='leff', ffn_act='gelu')
    no_weight_decay_keys = ('pos_embed', 'cls_token', 'rel_pos_h', 'rel_pos_w')
    variants = _VITDET_VARIANT


# The official constructors load the released T2T-ViT and So-ViT weights with the attention scale
# 1 / sqrt(embed_dims): the presets keep it ('head_dims' is their default from scratch).
_T2T_DEFAULTS = dict(mlp_ratio=3, pretrain_img_size=224, qkv_bias=False, qk_scale='embed_dims')


@_family
class T2TViT(PlainViT):
    """T2T-ViT (`arXiv 2101.11986 <https://arxiv.org/abs/2101.11986>`_) as a dense backbone: the
    tokens-to-token stem (:class:`TokensToToken`, stride 16, Performer layers or, in the ``t-``
    presets, Transformer layers), blocks without qkv bias and the fixed sinusoid position table,
    resized to other grids as a learned one is (see the module's docstring). Presets
    (yitu-opensource/T2T-ViT ``models/t2t_vit.py``): ``'7'``, ``'10'``, ``'12'``, ``'14'``,
    ``'19'``, ``'24'`` and ``'t-14'``, ``'t-19'``, ``'t-24'``, with the attention scale
    1 / sqrt(embed_dims) of the released weights (``qk_scale='embed_dims'``) and torch's default
    LayerNorm epsilon. The stem's layers attend over all stride-4 and stride-8 tokens: the
    Performer in linear, the Transformer in quadratic time and memory in their number. The
    official code is under the Clear BSD licence; mmvitx's is written from the paper, and
    converting the released weights (:func:`convert_t2tvit`) is the user's choice under their
    terms. See :class:`PlainViT` for the arguments.
    """

    family = 't2tvit'
    arch_zoo = {
        '7': dict(embed_dims=256, depth=7, num_heads=4, mlp_ratio=2),
        '10': dict(embed_dims=256, depth=10, num_heads=4, mlp_ratio=2),
        '12': dict(embed_dims=256, depth=12, num_heads=4, mlp_ratio=2),
        '14': dict(embed_dims=384, depth=14, num_heads=6),
        '19': dict(embed_dims=448, depth=19, num_heads=7),
        '24': dict(embed_dims=512, depth=24, num_heads=8),
        't-14': dict(embed_dims=384, depth=14, num_heads=6, stem='t2t-transformer'),
        't-19': dict(embed_dims=448, depth=19, num_heads=7, stem='t2t-transformer'),
        't-24': dict(embed_dims=512, depth=24, num_heads=8, stem='t2t-transformer'),
    }
    arch_aliases = {**{f't2t_vit_{depth}': depth for depth in ('7', '10', '12', '14', '19', '24')},
                    **{f't2t_vit_t_{depth}': f't-{depth}' for depth in ('14', '19', '24')}}
    default_arch = '14'
    arch_defaults = dict(_T2T_DEFAULTS, stem='t2t-performer')
    fixed_arch = dict(position='sinusoid', norm_eps=1e-5)
    no_weight_decay_keys = ('cls_token', 'rel_pos_h', 'rel_pos_w')
    variants = _VITDET_VARIANT


@_family
class SoViT(PlainViT):
    """So-ViT v1 (`arXiv 2104.10935v1 <https://arxiv.org/abs/2104.10935v1>`_) as a dense backbone:
    the convolutional stem (:class:`BottleneckStem`, stride 16), blocks without qkv bias and
    T2T-ViT's fixed sinusoid position table. The second-order head is left out: it pools the
    last block's patch tokens into a covariance (and reads the class token) for the classifier
    only. Presets (jiangtaoxie/So-ViT v1 ``src/so_vit.py``): ``'7'``, ``'10'``, ``'14'``,
    ``'19'``, with the attention scale 1 / sqrt(embed_dims) of the released weights and torch's
    default LayerNorm epsilon. Its BatchNorms want ``norm_eval=True`` or SyncBN for dense
    training with small batches. The official code carries no licence; mmvitx's is written from
    the paper, and converting the released weights (:func:`convert_sovit`) is the user's choice.
    See :class:`PlainViT` for the arguments.
    """

    family = 'sovit'
    arch_zoo = {
        '7': dict(embed_dims=256, depth=7, num_heads=4, mlp_ratio=2),
        '10': dict(embed_dims=256, depth=10, num_heads=4, mlp_ratio=2),
        '14': dict(embed_dims=384, depth=14, num_heads=6),
        '19': dict(embed_dims=448, depth=19, num_heads=7),
    }
    arch_aliases = {f'so_vit_{depth}': depth for depth in ('7', '10', '14', '19')}
    default_arch = '14'
    arch_defaults = _T2T_DEFAULTS
    fixed_arch = dict(stem='bottleneck', position='sinusoid', norm_eps=1e-5)
    no_weight_decay_keys = ('cls_token', 'rel_pos_h', 'rel_pos_w')
    variants = _VITDET_VARIANT


# ----------------------------------------------------------------------------- checkpoints
# timm's ViT/DeiT names are mmvitx's. CaiT (timm and the official files) names its LayerScales
# gamma_1/gamma_2. The heads (head, head_dist, fc_norm) and CaiT's class-attention stage
# (cls_token, blocks_token_only) are dropped; the final norm and the tokens are kept (loading
# ignores them where an instance does not build them, see PlainViT.keys_not_built).
_HEADS = ('head.', 'head_dist.', 'fc_norm.')
_GAMMA = re.compile(r'(blocks\.\d+)\.gamma_([12])$')
# LocalViT's FFN is an nn.Sequential ``conv.conv``: 0 conv, 1 BN, 2 act, 3 depthwise conv, 4 BN,
# 5 act, then (with SE) 6 SE (its own Sequential ``fc``: 0 Linear, 1 ReLU, 2 Linear), 7 conv,
# 8 BN; without SE, 6 conv and 7 BN.
_LOCALVIT_FFN = re.compile(r'(blocks\.\d+)\.conv\.conv\.(\d+)\.(.+)$')


def _drop_heads(state_dict: dict) -> OrderedDict:
    return OrderedDict((k, v) for k, v in state_dict.items() if not k.startswith(_HEADS))


_SAM_MLP = re.compile(r'(blocks\.\d+\.mlp)\.lin([12])\.')


def _from_sam_layout(state_dict: dict) -> dict:
    """SAM's image encoder (the official ``sam_vit_*.pth``, keys under ``image_encoder.``, MLPs
    ``lin1``/``lin2``; or timm's ``samvit_*``): ViTDet's backbone at 1024 with a (1, 64, 64, D)
    position table without a class row. Its neck and SAM's prompt encoder and mask decoder are
    dropped; the table is flattened behind an unused zero class row (ViT's layout; load it with
    ``with_cls_token=False`` and ``pretrain_img_size=1024``)."""
    if any(key.startswith('image_encoder.') for key in state_dict):
        state_dict = {key[len('image_encoder.'):]: value for key, value in state_dict.items()
                      if key.startswith('image_encoder.')}
    converted = {}
    for key, value in state_dict.items():
        if key.startswith('neck.'):
            continue
        if key == 'pos_embed' and value.dim() == 4:
            grid = value.flatten(1, 2)
            value = torch.cat([grid.new_zeros(1, 1, grid.shape[-1]), grid], dim=1)
        converted[_SAM_MLP.sub(r'\1.fc\2.', key)] = value
    return converted


@register_converter('vit', source="timm's vit_* weights (the official JAX checkpoints that "
                   "timm converted), MAE's pre-trained encoders, SAM's image encoders (ViTDet's "
                   'windowed ViT at 1024) or an mmvitx checkpoint')
def convert_vit(state_dict: dict) -> OrderedDict:
    """timm ViT weights (``vit_*``, and DeiT's official files, which share the layout), MAE's
    pre-trained encoders (``mae_pretrain_vit_*.pth``) and SAM's image encoders
    (:func:`_from_sam_layout`) -> mmvitx ViT/DeiT: the classifier heads are dropped. Idempotent
    on mmvitx checkpoints."""
    pos_embed = state_dict.get('pos_embed', state_dict.get('image_encoder.pos_embed'))
    if pos_embed is not None and pos_embed.dim() == 4:
        state_dict = _from_sam_layout(state_dict)
    converted = _drop_heads(state_dict)
    for key in converted:
        if key.startswith(('reg_token', 'norm_pre.')) or key.endswith('ls1.gamma'):
            raise ValueError(f'{key}: a ViT variant mmvitx does not implement (register tokens, '
                             f'a norm before the blocks or LayerScale)')
    return converted


register_converter('deit', source="DeiT's official files (facebookresearch/deit) or timm's "
                   'deit_* weights')(convert_vit)


@register_converter('cait', source="CaiT's official files (facebookresearch/deit) or timm's "
                   'cait_* weights')
def convert_cait(state_dict: dict) -> OrderedDict:
    """Official or timm CaiT weights -> mmvitx CaiT (the self-attention stage): LayerScale
    ``gamma_1``/``gamma_2`` become ``ls1.weight``/``ls2.weight``; the class token, the
    class-attention blocks and the head are dropped. Idempotent on mmvitx checkpoints."""
    converted = OrderedDict()
    for key, value in _drop_heads(state_dict).items():
        if key == 'cls_token' or key.startswith('blocks_token_only.'):
            continue
        converted[_GAMMA.sub(r'\1.ls\2.weight', key)] = value
    return converted


@register_converter('deepvit', source="DeepViT's official files (zhoudaquan/dvit_repo) or an "
                   'mmvitx checkpoint')
def convert_deepvit(state_dict: dict) -> OrderedDict:
    """DeepViT weights in the official (timm 0.3) layout, whose names mmvitx keeps -> mmvitx
    DeepViT: the head is dropped. Idempotent on mmvitx checkpoints."""
    return _drop_heads(state_dict)


@register_converter('convit', source="ConViT's official files (facebookresearch/convit) or "
                   "timm's convit_* weights")
def convert_convit(state_dict: dict) -> OrderedDict:
    """Official or timm ConViT weights, whose names mmvitx keeps (GPSA's ``qk``, ``v``,
    ``pos_proj``, ``gating_param``) -> mmvitx ConViT: the head is dropped. Idempotent."""
    return _drop_heads(state_dict)


@register_converter('cpvt', source='an ImageNet-pretrained CPVT classifier of yours (the plain '
                   'CPVT has no released weights)')
def convert_cpvt(state_dict: dict) -> OrderedDict:
    """mmvitx CPVT weights, from an mmvitx checkpoint or a classifier holding the backbone (the
    head is dropped). The plain CPVT has no official release."""
    return _drop_heads(state_dict)


def _localvit_ffn_key(block: str, index: int, rest: str, with_se: bool) -> str:
    names = {0: 'fc1.conv', 1: 'fc1.bn', 3: 'dwconv.conv', 4: 'dwconv.bn'}
    names.update({6: 'se', 7: 'fc2.conv', 8: 'fc2.bn'} if with_se else
                 {6: 'fc2.conv', 7: 'fc2.bn'})
    if index not in names:
        raise ValueError(f'{block}.conv.conv.{index}.{rest}: not a layer of LocalViT\'s FFN')
    if names[index] == 'se':
        rest = rest.replace('fc.0.', 'fc1.').replace('fc.2.', 'fc2.')
    return f'{block}.ffn.{names[index]}.{rest}'


@register_converter('localvit', source="LocalViT's official files (ofsoundof/LocalViT "
                   'releases: localvit_t.pth, localvit_t_se4.pth, localvit_s.pth)')
def convert_localvit(state_dict: dict) -> OrderedDict:
    """Official LocalViT weights (timm 0.3 layout, the FFN as ``blocks.N.conv.conv.I``) ->
    mmvitx LocalViT (``blocks.N.ffn.{fc1,dwconv,fc2}.{conv,bn}``, ``blocks.N.ffn.se.fc{1,2}``);
    the head is dropped. Idempotent on mmvitx checkpoints."""
    with_se = any(re.search(r'\.conv\.conv\.6\.fc\.', k) for k in state_dict)
    converted = OrderedDict()
    for key, value in _drop_heads(state_dict).items():
        match = _LOCALVIT_FFN.match(key)
        if match:
            key = _localvit_ffn_key(match[1], int(match[2]), match[3], with_se)
        converted[key] = value
    return converted


# CeiT's official names: the stem ``i2t.backbone.{conv,bn}`` and ``i2t.proj``, each LeFF
# ``blocks.N.leff.{conv,bn}{1,2,3}`` (pointwise, depthwise, pointwise).
_CEIT_LEFF = re.compile(r'(blocks\.\d+)\.leff\.(conv|bn)([123])\.')
_LEFF_LAYERS = {'1': 'fc1', '2': 'dwconv', '3': 'fc2'}


@register_converter('ceit', source="CeiT's official files (coeusguo/ceit) or an mmvitx checkpoint")
def convert_ceit(state_dict: dict) -> OrderedDict:
    """Official CeiT weights -> mmvitx CeiT: ``i2t.backbone.{conv,bn}`` and ``i2t.proj`` become
    ``patch_embed.{conv,bn,proj}``, each ``blocks.N.leff.{conv,bn}{1,2,3}``
    ``blocks.N.ffn.{fc1,dwconv,fc2}.{conv,bn}``; the LCA block (``lca.``), its layer embedding
    (``pos_layer_embed``) and the head are dropped (the final ``norm``, which normalised the LCA's
    output, is kept for ``final_norm``). Idempotent on mmvitx checkpoints."""
    converted = OrderedDict()
    for key, value in _drop_heads(state_dict).items():
        if key.startswith('lca.') or key == 'pos_layer_embed':
            continue
        key = re.sub(r'^i2t\.(backbone\.)?', 'patch_embed.', key)
        key = _CEIT_LEFF.sub(lambda m: f'{m[1]}.ffn.{_LEFF_LAYERS[m[3]]}.{m[2]}.', key)
        converted[key] = value
    return converted


# T2T-ViT's official stem ``tokens_to_token``: Performer layers
# ``attention{1,2}.{kqv,proj,norm1,norm2,mlp.0,mlp.2,w}`` (kqv: keys, queries, values, in this
# order; w: the random projection), Transformer layers
# ``attention{1,2}.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}``, and ``project``.
_T2T_LAYER = re.compile(r'tokens_to_token\.(attention[12])\.(.+)$')
_T2T_MODULES = {'kqv': 'qkv', 'attn.qkv': 'qkv', 'attn.proj': 'proj', 'mlp.0': 'mlp.fc1',
                'mlp.2': 'mlp.fc2'}


@register_converter('t2tvit', source="T2T-ViT's official files (yitu-opensource/T2T-ViT "
                   'releases, under its Clear BSD licence: converting them is your choice under '
                   'its terms) or an mmvitx checkpoint')
def convert_t2tvit(state_dict: dict) -> OrderedDict:
    """Official T2T-ViT weights -> mmvitx T2T-ViT: the stem ``tokens_to_token.`` becomes
    ``patch_embed.``, its layers' Performer ``kqv`` a ``qkv`` (rows reordered to queries, keys,
    values) and ``w`` ``random_projection``, the Transformer layers' ``attn.{qkv,proj}`` ``qkv``
    and ``proj``, the MLPs' ``mlp.{0,2}`` ``mlp.fc{1,2}``; the head is dropped, the sinusoid
    table and the random projections are kept as released. Idempotent on mmvitx checkpoints.
    Whether to convert the released weights is the user's choice under their licence."""
    converted = OrderedDict()
    for key, value in _drop_heads(state_dict).items():
        match = _T2T_LAYER.match(key)
        if match:
            layer, rest = match.groups()
            if rest == 'w':
                rest = 'random_projection'
            else:
                module, param = rest.rsplit('.', 1)
                if module == 'kqv':
                    keys, queries, values = value.chunk(3)
                    value = torch.cat([queries, keys, values])
                rest = f'{_T2T_MODULES.get(module, module)}.{param}'
            key = f'patch_embed.{layer}.{rest}'
        elif key.startswith('tokens_to_token.'):
            key = 'patch_embed.' + key[len('tokens_to_token.'):]
        converted[key] = value
    return converted


# So-ViT v1's official stem ``visual_tokens.tokens``: ``stem.0`` (the 3x3 convolution; 1 is the
# max-pool), ``stage.{0,1,2}`` (the bottlenecks, torchvision's names) and ``transition``.
_SOVIT_STEM = (('visual_tokens.tokens.stem.0.', 'patch_embed.conv.'),
               ('visual_tokens.tokens.stage.', 'patch_embed.layers.'),
               ('visual_tokens.tokens.transition.', 'patch_embed.proj.'))


@register_converter('sovit', source="So-ViT v1's official files (jiangtaoxie/So-ViT v1 "
                   'releases; the repository carries no licence: converting them is your '
                   'choice) or an mmvitx checkpoint')
def convert_sovit(state_dict: dict) -> OrderedDict:
    """Official So-ViT v1 weights -> mmvitx So-ViT: the stem ``visual_tokens.tokens.{stem.0,
    stage,transition}`` becomes ``patch_embed.{conv,layers,proj}``; the second-order head
    (``classifier.``: its reducing convolutions, normalisation and both Linears) is dropped.
    Idempotent on mmvitx checkpoints. Whether to convert the released weights is the user's
    choice: the official repository has no licence."""
    converted = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith('classifier.'):
            continue
        for official, own in _SOVIT_STEM:
            if key.startswith(official):
                key = own + key[len(official):]
        converted[key] = value
    return converted
