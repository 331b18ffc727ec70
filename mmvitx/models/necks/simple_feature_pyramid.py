"""ViTDet's simple feature pyramid (Li, Mao, Girshick, He, "Exploring Plain Vision Transformer
Backbones for Object Detection", arXiv 2203.16527, Section 3 and Figure 2; detectron2's
``SimpleFeaturePyramid``).

A plain backbone ends in one map at stride 16. The pyramid is built from that map alone, with
no top-down or lateral fusion: stride 4 by two 2x2 transposed convolutions (a LayerNorm and GELU
between them), stride 8 by one, stride 16 as it is, stride 32 by 2x2 max pooling. Each level then
gets a 1x1 convolution to ``out_channels`` and a 3x3 one, both followed by a channel LayerNorm
(so without bias). Levels beyond the four (``num_outs``) are max pooled from the last one with
kernel 1 and stride 2 (detectron2's ``LastLevelMaxPool``, mmdet's extra level of ``FPN``).
The default norm, ``LN2d``, is mmvitx's channel LayerNorm (``layers.LayerNorm2d``).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import BaseModule

from ...registry import register_model

SCALES = (4.0, 2.0, 1.0, 0.5)


@register_model
class SimpleFeaturePyramid(BaseModule):
    """Multi-scale maps from a single stride-16 map.

    Args:
        in_channels: channels of the backbone map (D).
        out_channels: channels of every output level.
        scale_factors: the levels to build, each one of 4, 2, 1 and 0.5 (strides 4, 8, 16, 32
            from a stride-16 map).
        num_outs: the number of outputs; those beyond ``scale_factors`` are max pooled (kernel 1,
            stride 2) from the last.
        in_index: which backbone output to use when given several (default the last).
        norm_cfg: the norm after each convolution (and between the two of the 4x level).
    """

    def __init__(self, in_channels: int, out_channels: int = 256,
                 scale_factors: tuple[float, ...] = SCALES, num_outs: int = 5,
                 in_index: int = -1, norm_cfg: dict = dict(type='LN2d', eps=1e-6),
                 init_cfg: dict | list | None = None):
        super().__init__(init_cfg)
        unknown = [s for s in scale_factors if s not in SCALES]
        if unknown:
            raise ValueError(f'SimpleFeaturePyramid scale_factors {unknown} are not among '
                             f'{list(SCALES)}')
        if num_outs < len(scale_factors):
            raise ValueError(f'num_outs ({num_outs}) is less than the {len(scale_factors)} '
                             f'scale_factors {list(scale_factors)}')
        self.in_index = in_index
        self.num_outs = num_outs
        self.scales = nn.ModuleList(self._rescale(in_channels, s, norm_cfg) for s in scale_factors)
        level_channels = [self._channels_after(in_channels, s) for s in scale_factors]
        self.lateral_convs = nn.ModuleList(
            ConvModule(c, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)
            for c in level_channels)
        self.output_convs = nn.ModuleList(
            ConvModule(out_channels, out_channels, 3, padding=1, norm_cfg=norm_cfg, act_cfg=None)
            for _ in level_channels)

    @staticmethod
    def _channels_after(channels: int, scale: float) -> int:
        return {4.0: channels // 4, 2.0: channels // 2}.get(scale, channels)

    @staticmethod
    def _rescale(channels: int, scale: float, norm_cfg: dict) -> nn.Module:
        if scale == 4.0:
            return nn.Sequential(nn.ConvTranspose2d(channels, channels // 2, 2, stride=2),
                                 build_norm_layer(norm_cfg, channels // 2)[1], nn.GELU(),
                                 nn.ConvTranspose2d(channels // 2, channels // 4, 2, stride=2))
        if scale == 2.0:
            return nn.ConvTranspose2d(channels, channels // 2, 2, stride=2)
        if scale == 0.5:
            return nn.MaxPool2d(2, stride=2)
        return nn.Identity()

    def forward(self, inputs: torch.Tensor | tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        x = inputs[self.in_index] if isinstance(inputs, (tuple, list)) else inputs
        outs = [output(lateral(rescale(x))) for rescale, lateral, output in
                zip(self.scales, self.lateral_convs, self.output_convs)]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
