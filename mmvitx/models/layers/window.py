"""Window partitioning with padding, and :func:`windowed` on top of it: the pad -> partition ->
attend -> merge -> crop sequence of every window-attention backbone.

Feature maps whose sides are not multiples of the window are zero-padded before partitioning and
cropped afterwards, so any input size works (nothing is rejected).
"""
from collections.abc import Callable

import torch
import torch.nn.functional as F

from .speedups import tracing


# Size arithmetic without negative operands: torch's ONNX exporter turns Python's floor division
# and modulo of symbolic sizes into ONNX ops that round toward zero, which is the same only for
# non-negative numbers (``-(-n // d)`` came out one short in exported graphs).
def ceil_div(size: int, divisor: int) -> int:
    """``ceil(size / divisor)`` for a non-negative ``size``."""
    return (size + divisor - 1) // divisor


def pad_to_multiple(size: int, multiple: int) -> int:
    """How much ``size`` (non-negative) lacks to the next multiple of ``multiple``."""
    return (multiple - size % multiple) % multiple


def pad_to_window_multiple(x: torch.Tensor, window_size: tuple[int, int], centered: bool = False):
    """Zero-pad a (B, H, W, C) map so that H and W are multiples of the window.

    Args:
        centered: put half of the padding before the map (HRFormer) instead of all of it after
            (Swin-style).

    Returns:
        The padded map and the padding as (top, bottom, left, right).
    """
    height, width = x.shape[1:3]
    pad_h = pad_to_multiple(height, window_size[0])
    pad_w = pad_to_multiple(width, window_size[1])
    top, left = (pad_h // 2, pad_w // 2) if centered else (0, 0)
    padding = (top, pad_h - top, left, pad_w - left)
    if pad_h or pad_w or tracing():
        x = F.pad(x, (0, 0, padding[2], padding[3], padding[0], padding[1]))
    return x, padding


def window_partition(x: torch.Tensor, window_size: tuple[int, int]) -> torch.Tensor:
    """(B, H, W, C) with H, W multiples of the window -> (B * num_windows, wh * ww, C)."""
    batch, height, width, channels = x.shape
    wh, ww = window_size
    x = x.view(batch, height // wh, wh, width // ww, ww, channels)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, wh * ww, channels)


def window_merge(windows: torch.Tensor, window_size: tuple[int, int], height: int,
                 width: int) -> torch.Tensor:
    """Inverse of :func:`window_partition`: (B * num_windows, wh * ww, C) -> (B, H, W, C)."""
    wh, ww = window_size
    channels = windows.shape[-1]
    x = windows.view(-1, height // wh, width // ww, wh, ww, channels)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, height, width, channels)


def windowed(attn_fn: Callable, x: torch.Tensor, window_size: tuple[int, int],
             centered: bool = False, q_stride: int = 1):
    """Run ``attn_fn`` inside the non-overlapping windows of a (B, H, W, C) map.

    The map is zero-padded to window multiples (:func:`pad_to_window_multiple`), partitioned into
    (B * num_windows, wh * ww, C) windows for ``attn_fn``, and its output windows are merged back
    into a map and cropped to the input's extent.

    Args:
        attn_fn: attended windows from windows; or a tuple of them and anything else, which is
            returned after the map (e.g. an attention map to share).
        centered: padding placement, see :func:`pad_to_window_multiple`.
        q_stride: ``attn_fn`` pools each window's queries with this stride and "same" padding
            (MViT's pooling attention), so that a window comes back as ceil(wh / q_stride) x
            ceil(ww / q_stride) tokens; the result is then cropped to ceil(H / q_stride) x
            ceil(W / q_stride).

    Returns:
        The (B, H', W', C) map, or a tuple of it and ``attn_fn``'s further outputs.
    """
    height, width = x.shape[1:3]
    x, padding = pad_to_window_multiple(x, window_size, centered)
    num_windows = (x.shape[1] // window_size[0], x.shape[2] // window_size[1])
    out = attn_fn(window_partition(x, window_size))
    windows, *extras = out if isinstance(out, tuple) else (out, )
    out_window = tuple(ceil_div(side, q_stride) for side in window_size)
    x = window_merge(windows, out_window, num_windows[0] * out_window[0],
                     num_windows[1] * out_window[1])
    top, left = padding[0] // q_stride, padding[2] // q_stride
    out_height, out_width = ceil_div(height, q_stride), ceil_div(width, q_stride)
    x = x[:, top:top + out_height, left:left + out_width]
    return (x, *extras) if extras else x


def relative_position_index(window_size: tuple[int, int]) -> torch.Tensor:
    """Swin-style lookup: for every (query, key) pair of a window, the row of the bias table.

    Row = (dy + wh - 1) * (2 * ww - 1) + (dx + ww - 1) for the offset (dy, dx) from key to query.
    """
    wh, ww = window_size
    coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing='ij')).flatten(1)
    offsets = coords[:, :, None] - coords[:, None, :]
    return (offsets[0] + wh - 1) * (2 * ww - 1) + (offsets[1] + ww - 1)
