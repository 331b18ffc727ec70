"""Op chains that keep less for the backward pass than autograd would.

Autograd keeps whatever each op's backward reads. In three chains that run in every block the
large kept tensors are cheap functions of a tensor that is kept anyway, so these versions keep
only that tensor and recompute the rest (elementwise work, or one batched matrix product) in the
backward pass:

- :func:`attention_with_learned_bias`: SDPA with a bias that needs a gradient (a learned relative
  position bias). torch's CPU SDPA then takes its reference path, which keeps the scaled queries
  and keys and the attention probabilities (heads x window tokens per token, 2.7x the channels in
  HRFormer-T's first branch); here the fused kernel runs forward and only q, k, v are kept.
- :func:`batch_norm_act`: a BatchNorm in training mode, its activation and the next convolution;
  keeps the BatchNorm's input, not the normalised and activated maps too.
- :func:`gelu_linear`: a Linear after GELU (a transformer MLP's second layer); keeps the GELU's
  input, not its output too.

Outputs are those of the plain ops and gradients agree to rounding (``tests/test_layers.py``).
Each falls back to the plain ops where it does not apply (no gradient needed, dropout, another
norm, SyncBN). Under autocast the ops run in the autocast dtype, as the plain ones would.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .activation import gelu, gelu_, gelu_backward


def _sum_to_shape(grad: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Reduce a broadcast gradient to the (same-rank) shape of the tensor that was broadcast."""
    dims = [d for d, (g, s) in enumerate(zip(grad.shape, shape)) if s == 1 and g != 1]
    return grad.sum(dims, keepdim=True) if dims else grad


class _LearnedBiasAttention(torch.autograd.Function):
    """softmax(q k^T / sqrt(d) + bias) v, keeping q, k, v and the bias for the backward pass."""

    @staticmethod
    def forward(ctx, q, k, v, bias):
        # A mask that needs no gradient lets SDPA run its fused kernel.
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.detach())
        ctx.save_for_backward(q, k, v, bias)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        q, k, v, bias = ctx.saved_tensors
        scale = q.shape[-1]**-0.5
        scores = torch.matmul(q, k.transpose(-2, -1)).mul_(scale).add_(bias)
        # In at least float32, as autocast runs softmax.
        attn = scores.softmax(-1, dtype=torch.promote_types(q.dtype, torch.float32)).to(q.dtype)
        grad_out = grad_out.to(q.dtype)
        grad_v = torch.matmul(attn.transpose(-2, -1), grad_out)
        grad_attn = torch.matmul(grad_out, v.transpose(-2, -1))
        # Softmax backward: P * (dP - sum_j P_j dP_j).
        grad_scores = grad_attn.sub_((grad_attn * attn).sum(-1, keepdim=True)).mul_(attn)
        grad_bias = _sum_to_shape(grad_scores, bias.shape) if ctx.needs_input_grad[3] else None
        grad_q = torch.matmul(grad_scores, k).mul_(scale)
        grad_k = torch.matmul(grad_scores.transpose(-2, -1), q).mul_(scale)
        return grad_q, grad_k, grad_v, grad_bias


def attention_with_learned_bias(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                bias: torch.Tensor | None, dropout_p: float = 0.) -> torch.Tensor:
    """``F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout_p)``.

    q, k, v: (B, heads, N, C); bias: 4-D, broadcastable to (B, heads, N, N), in q's dtype. On
    CPU, when the bias needs a gradient and there is no dropout, the memory-lean version runs
    (CUDA's memory-efficient SDPA kernel already computes a bias gradient itself).
    """
    if (bias is not None and bias.requires_grad and torch.is_grad_enabled() and not dropout_p
            and q.device.type == 'cpu' and bias.dim() == q.dim()):
        return _LearnedBiasAttention.apply(q, k, v, bias)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout_p)


def _autocast_dtype(x: torch.Tensor) -> torch.dtype | None:
    device = x.device.type
    return torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else None


def _activate_(x: torch.Tensor, activation: str | None) -> torch.Tensor:
    if activation == 'relu':
        return x.relu_()
    return gelu_(x) if activation == 'gelu' else x


def _activation_backward(grad, normed, hidden, activation):
    if activation == 'relu':
        return torch.ops.aten.threshold_backward(grad, hidden, 0)
    return gelu_backward(grad, normed) if activation == 'gelu' else grad


class _BatchNormAct(torch.autograd.Function):
    """[conv](act(batch_norm(x))) with batch statistics, keeping x (and the statistics) for
    backward: the normalised and activated maps are recomputed there."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps, activation,
                conv_weight, conv_bias, conv_params):
        normed, mean, invstd = torch.native_batch_norm(x, weight, bias, running_mean, running_var,
                                                       True, momentum, eps)[:3]
        # In place: the map is not kept, and a fresh output (not a view) may be summed into.
        out = _activate_(normed, activation)
        ctx.conv = conv_params
        conv_tensors = ()
        if conv_params is not None:
            dtype = _autocast_dtype(x)
            if dtype is not None:  # as F.conv2d under autocast would; so does the backward
                conv_weight = conv_weight.to(dtype)
                conv_bias = None if conv_bias is None else conv_bias.to(dtype)
                out = out.to(dtype)
            with torch.autocast(x.device.type, enabled=False):
                out = F.conv2d(out, conv_weight, conv_bias, *ctx.conv)
            ctx.conv_bias_size = None if conv_bias is None else list(conv_bias.shape)
            conv_tensors = (conv_weight, )
        ctx.save_for_backward(x, weight, bias, mean, invstd, *conv_tensors)
        ctx.eps, ctx.activation = eps, activation
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, bias, mean, invstd, *conv_weight = ctx.saved_tensors
        # The normalised map again, from the kept statistics: one elementwise pass.
        scale = invstd if weight is None else invstd * weight
        shift = -mean * scale if bias is None else torch.addcmul(bias, mean, scale, value=-1)
        shape = (1, -1) + (1, ) * (x.dim() - 2)
        normed = torch.addcmul(shift.view(shape).to(x.dtype), x, scale.view(shape).to(x.dtype))
        hidden = normed
        if ctx.activation == 'relu':
            hidden = normed.relu_()
        elif ctx.activation == 'gelu':
            hidden = gelu(normed)
        grad_conv_weight = grad_conv_bias = None
        if ctx.conv is not None:
            stride, padding, dilation, groups = ctx.conv
            grad_out, grad_conv_weight, grad_conv_bias = torch.ops.aten.convolution_backward(
                grad_out, hidden.to(conv_weight[0].dtype), conv_weight[0], ctx.conv_bias_size,
                stride, padding, dilation, False, [0] * len(stride), groups,
                [True, ctx.needs_input_grad[8],
                 ctx.conv_bias_size is not None and ctx.needs_input_grad[9]])
            grad_out = grad_out.to(x.dtype)
        grad_normed = _activation_backward(grad_out, normed, hidden, ctx.activation)
        del normed, hidden
        grad_x, grad_weight, grad_bias = torch.ops.aten.native_batch_norm_backward(
            grad_normed, x, weight, None, None, mean, invstd, True, ctx.eps,
            [ctx.needs_input_grad[0], weight is not None and ctx.needs_input_grad[1],
             bias is not None and ctx.needs_input_grad[2]])
        return (grad_x, grad_weight, grad_bias, None, None, None, None, None, grad_conv_weight,
                grad_conv_bias, None)


def batch_norm_act(x: torch.Tensor, norm: nn.Module, activation: str | None,
                   conv: nn.Conv2d | None = None) -> torch.Tensor:
    """``conv(act(norm(x)))``, or ``act(norm(x))`` without ``conv``; ``activation`` is
    ``'relu'``, ``'gelu'`` (exact) or None.

    With a ``BatchNorm2d`` in training mode (``SyncBatchNorm`` is not one; running statistics
    are updated as usual) only ``x`` is kept for the backward pass, not the normalised and
    activated maps. Otherwise, and where that keeps nothing less (a ReLU or no activation
    without ``conv``: an in-place ReLU's output is kept by whatever reads it), the plain ops run.
    """
    lean = (isinstance(norm, nn.BatchNorm2d) and norm.training and torch.is_grad_enabled()
            and (conv is not None or activation == 'gelu')
            and (conv is None or (type(conv) is nn.Conv2d and conv.padding_mode == 'zeros'
                                  and not isinstance(conv.padding, str))))
    if not lean:
        x = norm(x)
        x = x.relu_() if activation == 'relu' else gelu(x) if activation == 'gelu' else x
        return x if conv is None else conv(x)
    # _BatchNorm.forward's momentum and counter handling, for training mode.
    momentum = 0. if norm.momentum is None else norm.momentum
    if norm.track_running_stats and norm.num_batches_tracked is not None:
        norm.num_batches_tracked.add_(1)
        if norm.momentum is None:
            momentum = 1. / float(norm.num_batches_tracked)
    conv_weight, conv_bias, conv_params = None, None, None
    if conv is not None:
        conv_weight, conv_bias = conv.weight, conv.bias
        conv_params = (conv.stride, conv.padding, conv.dilation, conv.groups)
    return _BatchNormAct.apply(x, norm.weight, norm.bias, norm.running_mean, norm.running_var,
                               momentum, norm.eps, activation, conv_weight, conv_bias, conv_params)


class _GELULinear(torch.autograd.Function):
    """linear(gelu(x), weight, bias), keeping x (not gelu(x)) for backward."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        dtype = x.dtype
        if torch.is_autocast_enabled(x.device.type):
            # The plain F.linear would run in the autocast dtype: so do the product and its
            # backward (autograd casts the gradients back to the inputs' dtypes).
            dtype = torch.get_autocast_dtype(x.device.type)
            weight = weight.to(dtype)
            bias = None if bias is None else bias.to(dtype)
        with torch.autocast(x.device.type, enabled=False):
            out = F.linear(gelu(x).to(dtype), weight, bias)
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grad_out = grad_out.to(weight.dtype)
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = gelu_backward(torch.matmul(grad_out, weight).to(x.dtype), x)
        flat_grad = grad_out.reshape(-1, grad_out.shape[-1])
        if ctx.needs_input_grad[1]:
            hidden = gelu(x).to(weight.dtype).reshape(-1, x.shape[-1])
            grad_weight = torch.matmul(flat_grad.t(), hidden)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = flat_grad.sum(0)
        return grad_x, grad_weight, grad_bias


def gelu_linear(x: torch.Tensor, linear: nn.Linear) -> torch.Tensor:
    """``linear(gelu(x))``, keeping only ``x`` for the backward pass when a gradient is needed."""
    if not torch.is_grad_enabled():
        return linear(F.gelu(x))
    return _GELULinear.apply(x, linear.weight, linear.bias)
