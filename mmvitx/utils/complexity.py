"""FLOPs of mmvitx models with mmengine's (fvcore-style) analyzer, which counts one
multiply-add as one FLOP, the convention of the papers' GFLOPs figures."""
from math import prod

import torch
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import get_shape


def _sdpa_flop_jit(inputs, outputs) -> int:
    """``scaled_dot_product_attention``, which the analyzer does not know: the q @ k^T and the
    attn @ v products, as if written out (softmax and scaling not counted, as for the explicit
    form)."""
    q_shape, k_shape, v_shape = (get_shape(v) for v in inputs[:3])
    scores = prod(q_shape[:-1]) * k_shape[-2]
    return scores * q_shape[-1] + scores * v_shape[-1]


def count_flops(model: torch.nn.Module, inputs: tuple) -> int:
    """Total FLOPs (multiply-adds) of ``model(*inputs)``, attention through SDPA included.

    Traced without autograd: with gradients, the training-mode layers of
    ``mmvitx.models.layers.recompute`` run as autograd functions, whose insides the trace does
    not see.
    """
    analyzer = FlopAnalyzer(model, inputs)
    analyzer.set_op_handle('aten::scaled_dot_product_attention', _sdpa_flop_jit)
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    with torch.no_grad():
        return analyzer.total()
