"""Window partitioning with padding, shared by the window-attention backbones.

Feature maps whose sides are not multiples of the window are zero-padded before partitioning and
cropped afterwards, so any input size works (nothing is rejected).
"""
import torch
import torch.nn.functional as F


def pad_to_window_multiple(x: torch.Tensor, window_size: tuple[int, int], centered: bool = False):
    """Zero-pad a (B, H, W, C) map so that H and W are multiples of the window.

    Args:
        centered: put half of the padding before the map (HRFormer) instead of all of it after
            (Swin-style).

    Returns:
        The padded map and the padding as (top, bottom, left, right).
    """
    height, width = x.shape[1:3]
    pad_h = -height % window_size[0]
    pad_w = -width % window_size[1]
    top, left = (pad_h // 2, pad_w // 2) if centered else (0, 0)
    padding = (top, pad_h - top, left, pad_w - left)
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, padding[2], padding[3], padding[0], padding[1]))
    return x, padding


def crop_padding(x: torch.Tensor, padding: tuple[int, int, int, int]) -> torch.Tensor:
    """Undo :func:`pad_to_window_multiple` on a (B, H, W, C) map."""
    top, bottom, left, right = padding
    return x[:, top:x.shape[1] - bottom, left:x.shape[2] - right]


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


def relative_position_index(window_size: tuple[int, int]) -> torch.Tensor:
    """Swin-style lookup: for every (query, key) pair of a window, the row of the bias table.

    Row = (dy + wh - 1) * (2 * ww - 1) + (dx + ww - 1) for the offset (dy, dx) from key to query.
    """
    wh, ww = window_size
    coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing='ij')).flatten(1)
    offsets = coords[:, :, None] - coords[:, None, :]
    return (offsets[0] + wh - 1) * (2 * ww - 1) + (offsets[1] + ww - 1)
