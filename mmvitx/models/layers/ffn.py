"""Feed-forward variants."""
import warnings

import torch.nn as nn
from mmcv.cnn import build_activation_layer

from .activation import ChannelsLastGELU
from .conv import FoldedConvModule


class DepthwiseConvFFN(nn.Module):
    """Convolutional FFN with a 3x3 depthwise convolution between the two point-wise ones.

    HRFormer's FFN: every convolution (with bias) is followed by a BatchNorm and an activation,
    the output one included. Works on (B, C, H, W) maps. The activation (default GELU, as
    :class:`ChannelsLastGELU`) is applied here rather than inside the ``ConvModule``s, which
    would pass it an ``inplace`` argument.
    """

    def __init__(self, in_channels: int, hidden_channels: int, norm_cfg: dict,
                 act_cfg: dict | None = None):
        super().__init__()
        common = dict(bias=True, norm_cfg=norm_cfg, act_cfg=None)
        with warnings.catch_warnings():
            # The conv biases before BN are part of the published architecture (and checkpoints).
            warnings.filterwarnings('ignore', 'Unnecessary conv bias')
            self.fc1 = FoldedConvModule(in_channels, hidden_channels, 1, **common)
            self.dwconv = FoldedConvModule(hidden_channels, hidden_channels, 3, padding=1,
                                     groups=hidden_channels, **common)
            self.fc2 = FoldedConvModule(hidden_channels, in_channels, 1, **common)
        self.act = build_activation_layer(act_cfg) if act_cfg else ChannelsLastGELU()

    def forward(self, x):
        x = self.act(self.dwconv(self.act(self.fc1(x))))
        return self.act(self.fc2(x))


class LinearFFN(nn.Module):
    """Transformer MLP on tokens: Linear -> GELU -> Linear (with dropout after each Linear); the
    output width is the input width unless ``out_dims`` is given."""

    def __init__(self, in_dims: int, hidden_dims: int, drop: float = 0.,
                 out_dims: int | None = None):
        super().__init__()
        self.fc1 = nn.Linear(in_dims, hidden_dims)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dims, out_dims or in_dims)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))
