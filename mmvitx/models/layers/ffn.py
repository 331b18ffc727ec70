"""Feed-forward variants."""
import warnings

import torch.nn as nn
import torch.nn.functional as F

from .conv import FoldedConvModule, run_conv_chain
from .recompute import gelu_linear


class DepthwiseConvFFN(nn.Module):
    """Convolutional FFN with a 3x3 depthwise convolution between the two point-wise ones.

    HRFormer's FFN: every convolution (with bias) is followed by a BatchNorm and an activation
    (GELU unless ``act_cfg`` says otherwise), the output one included. Works on (B, C, H, W)
    maps. Runs as a :func:`run_conv_chain`: while the BatchNorms train, the normalised and
    activated hidden maps are recomputed in the backward pass instead of kept.
    """

    def __init__(self, in_channels: int, hidden_channels: int, norm_cfg: dict,
                 act_cfg: dict = dict(type='GELU')):
        super().__init__()
        common = dict(bias=True, norm_cfg=norm_cfg, act_cfg=act_cfg)
        with warnings.catch_warnings():
            # The conv biases before BN are part of the published architecture (and checkpoints).
            warnings.filterwarnings('ignore', 'Unnecessary conv bias')
            self.fc1 = FoldedConvModule(in_channels, hidden_channels, 1, **common)
            self.dwconv = FoldedConvModule(hidden_channels, hidden_channels, 3, padding=1,
                                           groups=hidden_channels, **common)
            self.fc2 = FoldedConvModule(hidden_channels, in_channels, 1, **common)

    def forward(self, x):
        return run_conv_chain(x, (self.fc1, self.dwconv, self.fc2))


class LinearFFN(nn.Module):
    """Transformer MLP on tokens: Linear -> GELU -> Linear (with dropout after each Linear); the
    output width is the input width unless ``out_dims`` is given. Without dropout the GELU and
    second Linear run as :func:`gelu_linear`, which keeps only the GELU's input for the backward
    pass."""

    def __init__(self, in_dims: int, hidden_dims: int, drop: float = 0.,
                 out_dims: int | None = None):
        super().__init__()
        self.fc1 = nn.Linear(in_dims, hidden_dims)
        self.fc2 = nn.Linear(hidden_dims, out_dims or in_dims)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        x = self.fc1(x)
        if self.training and self.drop.p:
            return self.drop(self.fc2(self.drop(F.gelu(x))))
        return self.drop(gelu_linear(x, self.fc2))
