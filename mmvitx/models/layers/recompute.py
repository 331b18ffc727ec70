"""Op chains that keep less for the backward pass than autograd would.

Autograd keeps whatever each op's backward reads. In the chains below, that run in every block the
large kept tensors are cheap functions of a tensor that is kept anyway, so these versions keep
only that tensor and recompute the rest (elementwise work, or one batched matrix product) in the
backward pass:

- :func:`attention_with_learned_bias`: SDPA with a bias that needs a gradient (a learned relative
  position bias). torch's CPU SDPA then takes its reference path, which keeps the scaled queries
  and keys and the attention probabilities (heads x window tokens per token, 2.7x the channels in
  HRFormer-T's first branch); here the fused kernel runs forward and only q, k, v are kept.
- :func:`attention_with_decomposed_bias`: the same for a bias that is a sum of per-query row and
  column terms (MViTv2's decomposed relative positions): only the terms are kept, not the
  (queries x keys) bias.
- :func:`batch_norm_act`: a BatchNorm in training mode, its activation and the next convolution;
  keeps the BatchNorm's input, not the normalised and activated maps too.
- :func:`gelu_linear`: a Linear after GELU (a transformer MLP's second layer); keeps the GELU's
  input, not its output too.

Outputs are those of the plain ops and gradients agree to rounding (``tests/test_layers.py``).
Each falls back to the plain ops where it does not apply (no gradient needed, dropout, another
norm, SyncBN), and runs only them under :func:`.speedups.plain_ops` (or ``MMVITX_PLAIN_OPS=1``).
Under autocast the ops run in the autocast dtype, as the plain ones would.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .activation import gelu, gelu_, gelu_backward
from .speedups import inplace_relu, speedups_enabled


def _sum_to_shape(grad: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Reduce a broadcast gradient to the (same-rank) shape of the tensor that was broadcast."""
    dims = [d for d, (g, s) in enumerate(zip(grad.shape, shape)) if s == 1 and g != 1]
    return grad.sum(dims, keepdim=True) if dims else grad


# Query rows per step where a (queries x keys) bias or score map is built: (batch x heads x rows x
# keys) elements at most (16 MiB in float32). Queries are independent, so the blocks are exact.
_CHUNK_ELEMENTS = 2**22


def _query_blocks(q: torch.Tensor, num_keys: int):
    """(start, end) of the blocks of query rows of q (..., queries, C)."""
    num_queries = q.shape[-2]
    rows = max(1, _CHUNK_ELEMENTS // max(1, q[..., 0, 0].numel() * num_keys))
    return [(start, min(start + rows, num_queries)) for start in range(0, num_queries, rows)]


def _blockwise_sdpa(q, k, v, bias_rows):
    """SDPA (fused kernel) with the bias of each block of query rows built only for it."""
    blocks = _query_blocks(q, k.shape[-2])
    if len(blocks) == 1:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias_rows(0, q.shape[-2]))
    out = q.new_empty(*q.shape[:-1], v.shape[-1])
    for start, end in blocks:
        out[..., start:end, :] = F.scaled_dot_product_attention(
            q[..., start:end, :], k, v, attn_mask=bias_rows(start, end))
    return out


def _batched(x: torch.Tensor) -> torch.Tensor:
    """x (..., m, n) as one batch of matrices (a view where the batch dimensions allow)."""
    return x.reshape(-1, *x.shape[-2:])


def _attention_backward(q, k, v, grad_out, bias_rows, bias_grad_rows, bias_is_scratch=False):
    """Gradients of softmax(q k^T / sqrt(d) + bias) v with respect to q, k and v, recomputing
    the probabilities a block of query rows at a time (the transient maps stay small).

    ``bias_rows(start, end)`` gives the bias of those query rows (broadcastable to the scores; when
    ``bias_is_scratch``, a fresh tensor of the scores' shape, which becomes the scores);
    ``bias_grad_rows(grad)`` turns the gradient of their scores into whatever the caller needs
    (returned as a list, one entry per block, in row order).
    """
    scale = q.shape[-1]**-0.5
    grad_out = grad_out.to(q.dtype)
    grad_q = torch.empty_like(q)
    # Contiguous, so that the block products accumulate into them in place.
    grad_k = k.new_zeros(k.shape)
    grad_v = v.new_zeros(v.shape)
    bias_grads = []
    for start, end in _query_blocks(q, k.shape[-2]):
        q_rows, grad_rows = q[..., start:end, :], grad_out[..., start:end, :]
        bias = bias_rows(start, end)
        if bias_is_scratch:  # one GEMM, in place: bias + scale * q k^T
            scores = _batched(bias).baddbmm_(_batched(q_rows), _batched(k).transpose(-2, -1),
                                             alpha=scale).view(bias.shape)
        else:
            scores = torch.matmul(q_rows, k.transpose(-2, -1)).mul_(scale).add_(bias)
        del bias
        # In at least float32, as autocast runs softmax.
        attn = scores.softmax(-1, dtype=torch.promote_types(q.dtype, torch.float32)).to(q.dtype)
        del scores
        _batched(grad_v).baddbmm_(_batched(attn).transpose(-2, -1), _batched(grad_rows))
        grad_scores = torch.ops.aten._softmax_backward_data(
            torch.matmul(grad_rows, v.transpose(-2, -1)), attn, -1, attn.dtype)
        del attn
        bias_grads.append(bias_grad_rows(grad_scores))
        grad_q[..., start:end, :] = torch.matmul(grad_scores, k).mul_(scale)
        _batched(grad_k).baddbmm_(_batched(grad_scores).transpose(-2, -1), _batched(q_rows),
                                  alpha=scale)
    return grad_q, grad_k, grad_v, bias_grads


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
        # One bias row shared by all queries, or one row per query (sliced like the queries).
        shared_row = bias.shape[-2] == 1

        def bias_rows(start, end):
            return bias if shared_row else bias[..., start:end, :]

        def bias_grad_rows(grad):
            rows = 1 if shared_row else grad.shape[-2]
            return _sum_to_shape(grad, bias.shape[:-2] + (rows, bias.shape[-1]))

        grad_q, grad_k, grad_v, bias_grads = _attention_backward(q, k, v, grad_out, bias_rows,
                                                                 bias_grad_rows)
        grad_bias = None
        if ctx.needs_input_grad[3]:
            grad_bias = (torch.stack(bias_grads).sum(0) if shared_row else
                         torch.cat(bias_grads, dim=-2))
        return grad_q, grad_k, grad_v, grad_bias


def attention_with_learned_bias(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                bias: torch.Tensor | None, dropout_p: float = 0.) -> torch.Tensor:
    """``F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout_p)``.

    q, k, v: (B, heads, N, C); bias: 4-D, broadcastable to (B, heads, N, N), in q's dtype. On
    CPU, when the bias needs a gradient and there is no dropout, the memory-lean version runs
    (CUDA's memory-efficient SDPA kernel already computes a bias gradient itself).
    """
    if (bias is not None and bias.requires_grad and torch.is_grad_enabled() and not dropout_p
            and q.device.type == 'cpu' and bias.dim() == q.dim() and speedups_enabled()):
        return _LearnedBiasAttention.apply(q, k, v, bias)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout_p)


def decomposed_bias(rel_h: torch.Tensor, rel_w: torch.Tensor, num_prefix: int) -> torch.Tensor:
    """The (queries x keys) bias rel_h[q, kh] + rel_w[q, kw] of keys on an (Hk, Wk) grid, after
    ``num_prefix`` keys without bias. rel_h, rel_w: (..., queries, Hk) and (..., queries, Wk)."""
    bias = (rel_h[..., :, None] + rel_w[..., None, :]).flatten(-2)
    return F.pad(bias, (num_prefix, 0)) if num_prefix else bias


def _decomposed_bias_rows(rel_h, rel_w, num_prefix, dtype):
    def bias_rows(start, end):
        return decomposed_bias(rel_h[..., start:end, :], rel_w[..., start:end, :],
                               num_prefix).to(dtype)

    return bias_rows


class _DecomposedBiasAttention(torch.autograd.Function):
    """Attention with a :func:`decomposed_bias`, keeping q, k, v and its two factors (not the
    bias) for the backward pass."""

    @staticmethod
    def forward(ctx, q, k, v, rel_h, rel_w, num_prefix):
        out = _blockwise_sdpa(q, k, v, _decomposed_bias_rows(rel_h, rel_w, num_prefix, q.dtype))
        ctx.save_for_backward(q, k, v, rel_h, rel_w)
        ctx.num_prefix = num_prefix
        return out

    @staticmethod
    def backward(ctx, grad_out):
        q, k, v, rel_h, rel_w = ctx.saved_tensors
        prefix, grid = ctx.num_prefix, (rel_h.shape[-1], rel_w.shape[-1])
        bias_rows = _decomposed_bias_rows(rel_h, rel_w, prefix, q.dtype)

        def factor_grads(grad):
            grad = grad[..., prefix:].unflatten(-1, grid)
            return grad.sum(-1), grad.sum(-2)

        grad_q, grad_k, grad_v, bias_grads = _attention_backward(
            q, k, v, grad_out, bias_rows, factor_grads, bias_is_scratch=True)
        grad_h, grad_w = (torch.cat(parts, dim=-2) for parts in zip(*bias_grads))
        return grad_q, grad_k, grad_v, grad_h, grad_w, None


def attention_with_decomposed_bias(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                   rel_h: torch.Tensor, rel_w: torch.Tensor,
                                   num_prefix: int = 0) -> torch.Tensor:
    """``F.scaled_dot_product_attention(q, k, v, attn_mask=decomposed_bias(rel_h, rel_w,
    num_prefix))``: SDPA's fused kernel, with the bias (queries x keys, as large as an attention
    map) built for a block of query rows at a time and, where gradients are needed, rebuilt in
    the backward pass from its factors (queries x (Hk + Wk)) instead of kept.
    q, k, v: (B, heads, N, C)."""
    if not speedups_enabled():
        return F.scaled_dot_product_attention(
            q, k, v, attn_mask=decomposed_bias(rel_h, rel_w, num_prefix).to(q.dtype))
    if torch.is_grad_enabled() and (rel_h.requires_grad or rel_w.requires_grad):
        return _DecomposedBiasAttention.apply(q, k, v, rel_h, rel_w, num_prefix)
    return _blockwise_sdpa(q, k, v, _decomposed_bias_rows(rel_h, rel_w, num_prefix, q.dtype))


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
    lean = (speedups_enabled() and isinstance(norm, nn.BatchNorm2d) and norm.training
            and torch.is_grad_enabled() and (conv is not None or activation == 'gelu')
            and (conv is None or (type(conv) is nn.Conv2d and conv.padding_mode == 'zeros'
                                  and not isinstance(conv.padding, str))))
    if not lean:
        x = norm(x)
        x = inplace_relu(x) if activation == 'relu' else gelu(x) if activation == 'gelu' else x
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
    if not (torch.is_grad_enabled() and speedups_enabled()):
        return linear(F.gelu(x))
    return _GELULinear.apply(x, linear.weight, linear.bias)
