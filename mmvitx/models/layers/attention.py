"""Multi-head self-attention inside local windows, computed with ``scaled_dot_product_attention``."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model.weight_init import trunc_normal_

from .position import ContinuousPositionBias
from .recompute import attention_with_learned_bias
from .window import relative_position_index, windowed


class WindowMultiheadAttention(nn.Module):
    """Multi-head attention over the tokens of each window, with a learned relative position bias.

    Input and output are (num_windows * B, N, C), N = wh * ww (or any N without the learned
    bias). q, k, v come from one fused projection.
    """

    def __init__(self, embed_dims: int, num_heads: int, window_size: tuple[int, int],
                 qkv_bias: bool = True, with_rel_pos_bias: bool = True, attn_drop: float = 0.,
                 proj_drop: float = 0.):
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by num_heads ({num_heads})')
        self.num_heads = num_heads
        self.window_size = window_size
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(embed_dims, 3 * embed_dims, bias=qkv_bias)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)
        if with_rel_pos_bias:
            wh, ww = window_size
            self.relative_position_bias_table = nn.Parameter(
                torch.zeros((2 * wh - 1) * (2 * ww - 1), num_heads))
            # Derived from the window size alone: not saved, so checkpoints stay size-agnostic.
            self.register_buffer('relative_position_index', relative_position_index(window_size),
                                 persistent=False)
        else:
            self.relative_position_bias_table = None

    def init_weights(self):
        if self.relative_position_bias_table is not None:
            trunc_normal_(self.relative_position_bias_table, std=0.02)

    def position_bias(self) -> torch.Tensor | None:
        """(num_heads, N, N) additive attention bias, or None."""
        if self.relative_position_bias_table is None:
            return None
        bias = self.relative_position_bias_table[self.relative_position_index]
        return bias.permute(2, 0, 1)

    def forward(self, x: torch.Tensor, attn_bias: torch.Tensor | None = None) -> torch.Tensor:
        """``attn_bias``: an extra additive bias broadcastable to (B, num_heads, N, N), e.g. a
        bias computed outside (FasterViT's continuous position bias)."""
        batch, num_tokens, channels = x.shape
        qkv = self.qkv(x).view(batch, num_tokens, 3, self.num_heads, channels // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        bias = self.position_bias()
        if attn_bias is not None:
            bias = attn_bias if bias is None else bias + attn_bias
        if bias is not None:
            # A 4-D mask: with a 3-D one torch's CPU SDPA takes its slow reference path.
            bias = bias.to(q.dtype)
            if bias.dim() == 3:
                bias = bias.unsqueeze(0)
        x = attention_with_learned_bias(q, k, v, bias, self.attn_drop if self.training else 0.)
        x = x.transpose(1, 2).reshape(batch, num_tokens, channels)
        return self.proj_drop(self.proj(x))


class LocalWindowSelfAttention(nn.Module):
    """Self-attention restricted to non-overlapping windows of a (B, H, W, C) map.

    The map is padded to window multiples (padded tokens are zeros and are not masked, as in the
    HRFormer paper's code) and cropped back afterwards.
    """

    def __init__(self, embed_dims: int, num_heads: int, window_size: int | tuple[int, int],
                 centered_padding: bool = False, **attn_kwargs):
        super().__init__()
        if isinstance(window_size, int):
            window_size = (window_size, window_size)
        self.window_size = window_size
        self.centered_padding = centered_padding
        self.attn = WindowMultiheadAttention(embed_dims, num_heads, window_size, **attn_kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return windowed(self.attn, x, self.window_size, self.centered_padding)


class ContinuousBiasWindowAttention(WindowMultiheadAttention):
    """Window attention with a continuous (MLP-generated, log-spaced) relative position bias.

    ``num_prefix`` extra tokens may precede the window's tokens (FasterViT's carrier tokens); their
    rows and columns of the bias are zero, i.e. they attend and are attended without position
    bias.
    """

    def __init__(self, embed_dims: int, num_heads: int, pretrained_window: tuple[int, int],
                 qkv_bias: bool = True, attn_drop: float = 0., proj_drop: float = 0.):
        super().__init__(embed_dims, num_heads, pretrained_window, qkv_bias=qkv_bias,
                         with_rel_pos_bias=False, attn_drop=attn_drop, proj_drop=proj_drop)
        self.cpb = ContinuousPositionBias(num_heads, pretrained_window)

    def forward(self, x: torch.Tensor, window: tuple[int, int], num_prefix: int = 0) -> torch.Tensor:
        bias = self.cpb(window, x)
        if num_prefix:
            bias = F.pad(bias, (num_prefix, 0, num_prefix, 0))
        return super().forward(x, attn_bias=bias)


class ShareableMultiheadAttention(nn.Module):
    """Multi-head self-attention whose attention map can be handed to the next layer (PSViT's
    attention sharing).

    A layer built with ``shares_map=True`` reuses the map of the layer before it: it has only the
    V and output projections and computes no Q, K or scores, just ``map @ V``. Otherwise the map is
    materialised only when the next layer needs it (``return_map=True``); elsewhere attention runs
    through ``scaled_dot_product_attention``. Input (B, N, C); the map is (B, heads, N, N) and
    attention dropout applies to each use of it, not to the map handed on.
    """

    def __init__(self, embed_dims: int, num_heads: int, shares_map: bool = False,
                 qkv_bias: bool = True, attn_drop: float = 0., proj_drop: float = 0.):
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by num_heads ({num_heads})')
        self.num_heads = num_heads
        self.shares_map = shares_map
        self.scale = (embed_dims // num_heads)**-0.5
        self.attn_drop = attn_drop
        if shares_map:
            self.v = nn.Linear(embed_dims, embed_dims, bias=qkv_bias)
        else:
            self.qkv = nn.Linear(embed_dims, 3 * embed_dims, bias=qkv_bias)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor, shared_map: torch.Tensor | None = None,
                return_map: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Returns the output and, if ``return_map`` (or when sharing), the attention map."""
        batch, num_tokens, channels = x.shape
        head_dims = channels // self.num_heads
        attn_drop = self.attn_drop if self.training else 0.
        if self.shares_map:
            if shared_map is None:
                raise ValueError('This attention layer shares the previous layer\'s map; pass it '
                                 'as shared_map')
            v = self.v(x).view(batch, num_tokens, self.num_heads, head_dims).transpose(1, 2)
            attn_map = shared_map
            out = F.dropout(attn_map, attn_drop, self.training) @ v
        else:
            qkv = self.qkv(x).view(batch, num_tokens, 3, self.num_heads, head_dims)
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
            if return_map:
                attn_map = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
                out = F.dropout(attn_map, attn_drop, self.training) @ v
            else:
                attn_map = None
                out = F.scaled_dot_product_attention(q, k, v, dropout_p=attn_drop)
        out = out.transpose(1, 2).reshape(batch, num_tokens, channels)
        return self.proj_drop(self.proj(out)), attn_map
