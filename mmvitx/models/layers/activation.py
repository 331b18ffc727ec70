"""Activations.

torch's CPU GELU (forward and backward) takes a scalar loop, about 2x slower, on a channels-last
(B, C, H, W) tensor, and its vectorised kernel on the same memory viewed as a contiguous
(B, H, W, C) tensor; such maps are activated through that view. Results are the plain ops' (up to
rounding), in the same memory format; under :func:`.speedups.plain_ops` :func:`gelu` is ``F.gelu``.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .speedups import speedups_enabled


def _is_channels_last_map(x: torch.Tensor) -> bool:
    return x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(
        memory_format=torch.channels_last)


def gelu(x: torch.Tensor) -> torch.Tensor:
    """``F.gelu`` (exact), on the fast path for channels-last maps too."""
    if _is_channels_last_map(x) and speedups_enabled():
        return F.gelu(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    return F.gelu(x)


def gelu_(x: torch.Tensor) -> torch.Tensor:
    """In-place :func:`gelu`."""
    torch.ops.aten.gelu_(x.permute(0, 2, 3, 1) if _is_channels_last_map(x) else x)
    return x


def gelu_backward(grad: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Gradient of :func:`gelu` at ``x``, on the fast path for channels-last maps too."""
    if _is_channels_last_map(x):
        return torch.ops.aten.gelu_backward(grad.permute(0, 2, 3, 1),
                                            x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    return torch.ops.aten.gelu_backward(grad, x)


class ChannelsLastGELU(nn.GELU):
    """``nn.GELU`` (exact) through :func:`gelu`: fast on channels-last maps too."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gelu(x)
