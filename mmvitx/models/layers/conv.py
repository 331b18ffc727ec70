"""Convolution + BatchNorm blocks that run as one convolution while the BatchNorm is frozen."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch.nn.modules.batchnorm import _BatchNorm


class FoldedConvModule(ConvModule):
    """mmcv's ``ConvModule`` (same arguments, parameters and checkpoint keys) whose BatchNorm, in
    eval mode, is folded into the convolution.

    When no gradient is needed for the conv and BN parameters (inference, frozen stages) the
    folded weight and bias are computed once and the block runs one convolution. They are
    recomputed after every ``train()``/``eval()`` switch (optimizer steps and EMA swaps happen
    around those; fused optimizers and ``.data`` copies do not bump tensor versions) and when a
    tensor's storage or version changes (a ``load_state_dict`` in eval mode).
    On CPU, folding on every call (mmcv's ``efficient_conv_bn_eval``) and ``ConvModule``'s
    dispatch cost about 10 % of HRFormer-T's inference: some ten small ops per block, each slow
    after the convolutions have flushed the caches. When the parameters need gradients
    (``norm_eval`` training) mmcv's per-call folding runs, so that the gradients flow; a
    BatchNorm in training mode normalises as usual.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('efficient_conv_bn_eval', True)
        super().__init__(*args, **kwargs)
        self._foldable = (type(self.conv) is nn.Conv2d and isinstance(self.norm, _BatchNorm)
                          and self.norm.track_running_stats and not self.with_explicit_padding
                          and tuple(self.order) == ('conv', 'norm', 'act'))
        self._folded = None  # (key, weight, bias): a plain attribute, never in the state dict

    def train(self, mode: bool = True):
        self._folded = None
        return super().train(mode)

    def forward(self, x: torch.Tensor, activate: bool = True, norm: bool = True) -> torch.Tensor:
        bn = self.norm
        if (norm and self._foldable and not bn.training
                and self.efficient_conv_bn_eval_forward is not None):
            conv = self.conv
            tensors = (conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var)
            if not (torch.is_grad_enabled()
                    and any(t is not None and t.requires_grad for t in tensors[:4])):
                x = conv._conv_forward(x, *self._folded_weight_and_bias(tensors))
                return self.activate(x) if activate and self.with_activation else x
        return super().forward(x, activate, norm)

    def _folded_weight_and_bias(self, tensors):
        key = (torch.is_inference_mode_enabled(),
               *((t._version, t.data_ptr()) for t in tensors if t is not None))
        if self._folded is None or self._folded[0] != key:
            conv_weight, conv_bias, bn_weight, bn_bias, mean, var = tensors
            # The same arithmetic, in the same order, as mmcv's efficient_conv_bn_eval_forward.
            with torch.no_grad():
                coeff = torch.rsqrt(var + self.norm.eps)
                if bn_weight is not None:
                    coeff = bn_weight * coeff
                weight = conv_weight * coeff.view(-1, 1, 1, 1)
                bias = coeff * ((0 if conv_bias is None else conv_bias) - mean)
                if bn_bias is not None:
                    bias = bn_bias + bias
            self._folded = (key, weight, bias)
        return self._folded[1:]


class FoldedDepthwiseSeparableConvModule(nn.Module):
    """mmcv's ``DepthwiseSeparableConvModule`` (same parameters and checkpoint keys: a depthwise
    then a pointwise conv block) built from :class:`FoldedConvModule`s.

    Args:
        dw_act_cfg, pw_act_cfg: activations after the depthwise and the pointwise convolution
            (ReLU by default; None for none).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, norm_cfg: dict | None = None,
                 dw_act_cfg: dict | None = dict(type='ReLU'),
                 pw_act_cfg: dict | None = dict(type='ReLU')):
        super().__init__()
        self.depthwise_conv = FoldedConvModule(in_channels, in_channels, kernel_size,
                                               stride=stride, padding=padding,
                                               groups=in_channels, norm_cfg=norm_cfg,
                                               act_cfg=dw_act_cfg)
        self.pointwise_conv = FoldedConvModule(in_channels, out_channels, 1, norm_cfg=norm_cfg,
                                               act_cfg=pw_act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise_conv(self.depthwise_conv(x))
