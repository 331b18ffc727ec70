"""Normalisation and scaling layers shared by the backbones."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS as MMENGINE_MODELS

from ...registry import MODELS


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a (B, C, H, W) map; registered as ``'LN2d'`` for
    ``build_norm_layer``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias,
                         self.eps)
        return x.permute(0, 3, 1, 2)


for _registry in (MMENGINE_MODELS, MODELS):
    if _registry.get('LN2d') is None:
        _registry.register_module('LN2d', module=LayerNorm2d)


class LayerScale(nn.Module):
    """Learned per-channel scaling of a residual branch (CaiT), on the last dimension or, with
    ``channel_dim=1``, on the channels of a (B, C, H, W) map."""

    def __init__(self, dims: int, init_value: float, channel_dim: int = -1):
        super().__init__()
        self.weight = nn.Parameter(torch.full((dims, ), float(init_value)))
        self.channel_dim = channel_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channel_dim == 1:
            return x * self.weight.view(1, -1, 1, 1)
        return x * self.weight
