"""The switch between mmvitx's speed-up layer and the plain torch ops.

Several op chains run in forms that are faster, or keep less for the backward pass, than the
plain torch ops, with the same results up to rounding:

- :mod:`.recompute`: attention with a learned or decomposed position bias, BatchNorm ->
  activation -> convolution, GELU -> Linear (custom backward passes that recompute instead of
  keeping);
- :class:`.FoldedConvModule` (the BatchNorm folded into the convolution, oneDNN's convolution
  with the activation applied as it writes) and :func:`.run_conv_chain`;
- :func:`.gelu` on channels-last maps (through a channels-last view);
- in-place residual and fuse sums (:func:`inplace_add`, :func:`inplace_relu`).

With plain ops on, every one of them runs as ordinary torch ops and mmcv modules instead, so that
a suspected bug can be put on the speed-up layer or ruled out of it::

    MMVITX_PLAIN_OPS=1 python tools/train.py CONFIG    # read at every call

    from mmvitx.models.layers import plain_ops
    with plain_ops():
        outputs = model(inputs)
"""
import os
from contextlib import contextmanager

import torch

PLAIN_OPS_ENV = 'MMVITX_PLAIN_OPS'

# Set by plain_ops(); None leaves the choice to the environment variable.
_plain_override: bool | None = None


def speedups_enabled() -> bool:
    """Whether the speed-up layer runs: not inside ``plain_ops()``, and, outside any
    ``plain_ops`` block, unless ``MMVITX_PLAIN_OPS`` is set to anything but ``''`` or ``'0'``."""
    if _plain_override is not None:
        return not _plain_override
    return os.environ.get(PLAIN_OPS_ENV, '') in ('', '0')


@contextmanager
def plain_ops(enabled: bool = True):
    """Run the plain torch ops instead of the speed-up layer inside the block (``enabled=False``:
    the speed-up layer, whatever ``MMVITX_PLAIN_OPS`` says). Blocks nest."""
    global _plain_override
    previous, _plain_override = _plain_override, enabled
    try:
        yield
    finally:
        _plain_override = previous


def tracing() -> bool:
    """Whether the forward is being traced into a graph (``torch.jit`` tracing, as the TorchScript
    ONNX exporter does, or ``torch.export`` / ``torch.compile``). A traced graph keeps one branch
    of every Python ``if`` on sizes and serves every input size, so size-dependent shortcuts
    (skipping a zero padding or an identity resize) and inference caches are off while tracing."""
    return torch.jit.is_tracing() or torch.compiler.is_compiling()


def inplace_add(out: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """``out + other``, summed into ``out`` when the speed-up layer runs: a large fresh buffer
    costs page faults on first touch, more than the addition itself. ``out`` must be a fresh
    output that nothing else reads and whose own backward does not need it."""
    return out.add_(other) if speedups_enabled() else out + other


def inplace_relu(out: torch.Tensor) -> torch.Tensor:
    """``relu(out)``, in place when the speed-up layer runs (``out`` as in :func:`inplace_add`)."""
    return out.relu_() if speedups_enabled() else out.relu()
