"""Convolution + BatchNorm blocks that run as one convolution while the BatchNorm is frozen, and
chains of them that keep less for the backward pass while it trains."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch.nn.modules.batchnorm import _BatchNorm

from .activation import ChannelsLastGELU
from .recompute import batch_norm_act
from .speedups import speedups_enabled

# oneDNN's convolution with the activation applied as it writes the output (the op torch.compile's
# CPU backend emits for conv + activation): one pass over the output instead of two. It has no
# backward, so it runs only where no gradient is needed.
_FUSED_CONV_ACT = (getattr(torch.ops.mkldnn, '_convolution_pointwise', None)
                   if torch.backends.mkldnn.is_available() else None)


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
    BatchNorm in training mode normalises as usual. A ReLU or GELU after a folded convolution
    is applied by oneDNN as it writes the convolution's output (channels-last float32 CPU maps,
    no gradient needed). A GELU activation (``act_cfg=dict(type='GELU')``) otherwise runs as
    :class:`ChannelsLastGELU`. Under :func:`.speedups.plain_ops` the block runs as mmcv's
    ``ConvModule`` without ``efficient_conv_bn_eval``: convolution, norm and activation modules.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('efficient_conv_bn_eval', True)
        super().__init__(*args, **kwargs)
        self._foldable = (type(self.conv) is nn.Conv2d and isinstance(self.norm, _BatchNorm)
                          and self.norm.track_running_stats and not self.with_explicit_padding
                          and tuple(self.order) == ('conv', 'norm', 'act'))
        self._folded = None  # (key, weight, bias): a plain attribute, never in the state dict
        # What batch_norm_act runs for the activation (False: one it does not know).
        self.activation_name = None
        if self.with_activation:
            if type(self.activate) is nn.GELU and self.activate.approximate == 'none':
                self.activate = ChannelsLastGELU()
            self.activation_name = {nn.ReLU: 'relu', ChannelsLastGELU: 'gelu'}.get(
                type(self.activate), False)

    def train(self, mode: bool = True):
        self._folded = None
        return super().train(mode)

    def forward(self, x: torch.Tensor, activate: bool = True, norm: bool = True) -> torch.Tensor:
        if not speedups_enabled():
            return self._plain_forward(x, activate, norm)
        bn = self.norm
        if (norm and self._foldable and not bn.training
                and self.efficient_conv_bn_eval_forward is not None):
            conv = self.conv
            tensors = (conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var)
            if not (torch.is_grad_enabled()
                    and any(t is not None and t.requires_grad for t in tensors[:4])):
                weight, bias = self._folded_weight_and_bias(tensors)
                if not (activate and self.with_activation):
                    return conv._conv_forward(x, weight, bias)
                # Not while tracing (FLOP counting): the trace cannot represent the op.
                if (self.activation_name and _FUSED_CONV_ACT is not None
                        and not torch.jit.is_tracing()
                        and x.device.type == 'cpu' and x.dtype == torch.float32
                        and x.is_contiguous(memory_format=torch.channels_last)
                        and not (torch.is_grad_enabled() and x.requires_grad)):
                    return _FUSED_CONV_ACT(x, weight, bias, conv.padding, conv.stride,
                                           conv.dilation, conv.groups, self.activation_name, [],
                                           'none' if self.activation_name == 'gelu' else '')
                return self.activate(conv._conv_forward(x, weight, bias))
        return super().forward(x, activate, norm)

    def _plain_forward(self, x: torch.Tensor, activate: bool, norm: bool) -> torch.Tensor:
        for layer in self.order:
            if layer == 'conv':
                x = self.conv(self.padding_layer(x) if self.with_explicit_padding else x)
            elif layer == 'norm' and norm and self.with_norm:
                x = self.norm(x)
            elif layer == 'act' and activate and self.with_activation:
                x = self.activate(x)
        return x

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


def run_conv_chain(x: torch.Tensor, modules) -> torch.Tensor:
    """``x`` through a sequence of :class:`FoldedConvModule`s.

    While their BatchNorms train (``BatchNorm2d`` in training mode, gradients enabled), each
    BatchNorm -> activation -> next convolution runs as :func:`batch_norm_act`: only the
    BatchNorm's input is kept for the backward pass, not the normalised and activated maps
    (which the next convolution would keep too). Otherwise (inference, ``norm_eval``, SyncBN,
    another activation) and under :func:`.speedups.plain_ops`, every module runs as usual.
    """
    lean = speedups_enabled() and torch.is_grad_enabled() and all(
        m._foldable and isinstance(m.norm, nn.BatchNorm2d) and m.norm.training
        and m.activation_name is not False for m in modules)
    if not lean:
        for module in modules:
            x = module(x)
        return x
    x = modules[0].conv(x)
    for module, following in zip(modules, modules[1:]):
        x = batch_norm_act(x, module.norm, module.activation_name, following.conv)
    return batch_norm_act(x, modules[-1].norm, modules[-1].activation_name)


class ConvModuleChain(nn.Sequential):
    """``nn.Sequential`` of :class:`FoldedConvModule`s (same keys) run by :func:`run_conv_chain`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run_conv_chain(x, tuple(self))


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
        return run_conv_chain(x, (self.depthwise_conv, self.pointwise_conv))
