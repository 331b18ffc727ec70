"""A feature pyramid at strides 4, 8, 16 and 32 from several maps at other strides, for
CrossViT's two branches (``mmvitx.models.backbones.CrossViT``): a map at stride 12 and one at
stride 16 of the input resized by 224 / 240, i.e. 16 x 240 / 224 (about 17.1) in the input.

Neither stride is a power of two, so ViTDet's simple feature pyramid (transposed convolutions and
pooling by factors of 2 from one stride-16 map) cannot reach strides 4 to 32 from them. Each level
instead takes every map, resampled to the level's grid:

- each map is resampled bilinearly by the ratio of its stride to the level's (``align_corners``
  False, with that exact ratio as the scale), so that a level cell and the map positions it is
  interpolated from cover the same input pixels; maps other than the first are then zero-padded
  or cropped at the bottom and right to the first map's grid;
- a 1x1 convolution without bias per map projects it to the output width (resampling and the
  projection commute, so the projection runs on the smaller of the two grids), the projections
  are summed and normalised (LN2d);
- a 3x3 convolution and a norm follow, as on each level of ViTDet's simple feature pyramid (Li et
  al., arXiv 2203.16527) and mmseg's MultiLevelNeck.

Summing the branches on every level gives each level both of CrossViT's complementary maps (the
fine S-branch and the wide L-branch) through one learned projection each, and keeps the neck as
simple as ViTDet's, whose ablations found a pyramid without FPN's top-down fusion sufficient on
a plain backbone. Bilinear resampling is what MultiLevelNeck does for its stride-4, 8 and
32 levels.

A level's grid is the first map's resampled by the stride ratio: ``floor(h * stride_0 /
stride)`` cells (torch's size for a scale factor), at least one; it covers the first map's extent
(the input zero-padded to a multiple of 12, for CrossViT) up to less than one cell. A 256x192
input gives a 16x12 stride-16 level, as top-down pose heads expect. Levels beyond ``strides``
(``num_outs``) are max pooled from the last with kernel 1 and stride 2 (as
:class:`SimpleFeaturePyramid`'s).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import BaseModule

from ...registry import register_model
from ..layers import tracing


def resample(x: torch.Tensor, scale: float, grid: tuple[int, int] | None = None) -> torch.Tensor:
    """``x`` (B, C, H, W) resampled bilinearly by ``scale`` (``floor(H * scale)`` x
    ``floor(W * scale)``, the source positions from the exact scale), then zero-padded or cropped
    at the bottom and right to ``grid`` where given. A map under one output cell (inputs of a few
    pixels) is resampled to one cell, or to ``grid``, by size."""
    if not tracing():
        sizes = [math.floor(side * scale) for side in x.shape[-2:]]
        if min(sizes) < 1:
            return F.interpolate(x, size=grid or tuple(max(side, 1) for side in sizes),
                                 mode='bilinear', align_corners=False)
    if scale != 1:
        x = F.interpolate(x, scale_factor=scale, mode='bilinear', align_corners=False)
    if grid is not None and (tracing() or tuple(x.shape[-2:]) != tuple(grid)):
        x = F.pad(x, (0, grid[1] - x.shape[-1], 0, grid[0] - x.shape[-2]))
    return x


class PyramidLevel(nn.Module):
    """One level: a bias-free 1x1 projection per input map (``laterals``), their sum's norm
    (``norm``), then a 3x3 convolution with a norm (``output_conv``)."""

    def __init__(self, in_channels: tuple[int, ...], out_channels: int, norm_cfg: dict):
        super().__init__()
        self.laterals = nn.ModuleList(
            nn.Conv2d(channels, out_channels, 1, bias=False) for channels in in_channels)
        self.norm = build_norm_layer(norm_cfg, out_channels)[1]
        self.output_conv = ConvModule(out_channels, out_channels, 3, padding=1,
                                      norm_cfg=norm_cfg, act_cfg=None)

    def forward(self, inputs, scales):
        grid = fused = None
        for x, scale, lateral in zip(inputs, scales, self.laterals):
            if scale > 1:  # upsampling: project on the coarser map
                y = resample(lateral(x), scale, grid)
            else:
                y = lateral(resample(x, scale, grid))
            if grid is None:  # the first map sets the level's grid
                grid = tuple(y.shape[-2:])
                fused = y
            else:
                fused = fused + y
        return self.output_conv(self.norm(fused))


@register_model
class MultiBranchFeaturePyramid(BaseModule):
    """Multi-scale maps from several maps at any strides (CrossViT's two branches).

    Args:
        in_channels: the channels of each input map.
        in_strides: the stride of each input map in the input image (CrossViT:
            ``backbone.branch_strides``, ``(12, 16 * 240 / 224)``; ``(12, 16 * 408 / 384)`` for
            the -408 presets). The first map sets the levels' grids.
        out_channels: the channels of every output level.
        strides: the output levels' strides (top-down pose: one, e.g. ``(16, )``).
        num_outs: the number of outputs (None: one per stride); those beyond ``strides`` are max
            pooled (kernel 1, stride 2) from the last.
        norm_cfg: the norm after the summed projections and after the 3x3 convolution.
    """

    def __init__(self, in_channels: tuple[int, ...], in_strides: tuple[float, ...],
                 out_channels: int = 256, strides: tuple[int, ...] = (4, 8, 16, 32),
                 num_outs: int | None = None, norm_cfg: dict = dict(type='LN2d', eps=1e-6),
                 init_cfg: dict | list | None = None):
        super().__init__(init_cfg)
        if len(in_channels) != len(in_strides):
            raise ValueError(f'MultiBranchFeaturePyramid needs one stride per input map: '
                             f'in_channels {list(in_channels)}, in_strides {list(in_strides)}')
        num_outs = len(strides) if num_outs is None else num_outs
        if not strides or num_outs < len(strides):
            raise ValueError(f'num_outs ({num_outs}) is less than the {len(strides)} strides '
                             f'{list(strides)}')
        self.in_channels = tuple(in_channels)
        self.in_strides = tuple(in_strides)
        self.strides = tuple(strides)
        self.num_outs = num_outs
        self.levels = nn.ModuleList(
            PyramidLevel(self.in_channels, out_channels, norm_cfg) for _ in self.strides)

    def forward(self, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'MultiBranchFeaturePyramid was built for {len(self.in_channels)} '
                             f'input maps, got {len(inputs)} (the backbone\'s out_indices must '
                             f'give every branch)')
        outs = [level(inputs, [in_stride / stride for in_stride in self.in_strides])
                for level, stride in zip(self.levels, self.strides)]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
