"""ONNX export of mmvitx's backbones and of the toolbox models built on them, and its check
against PyTorch in onnxruntime. ``tools/deploy/export_onnx.py`` and ``tests/test_onnx.py`` use it.

- Exporters: torch's TorchScript exporter (``torch.onnx.export(..., dynamo=False)``), which traces
  the model and records its size arithmetic as graph ops, so one file serves every input size;
  and the ``torch.export`` one (``dynamo=True``), whose symbolic sizes most families' padding
  and resizing arithmetic defeats. Each family names the one it exports with
  (``DenseBackbone.onnx_exporter``); ``exporter=`` overrides it.
- The model is exported in eval mode, without autograd, under
  :func:`mmvitx.models.layers.plain_ops`: the speed-up layer's custom autograd functions and
  in-place sums become the plain torch ops. While traced, the models take no size-dependent
  shortcut (:func:`mmvitx.models.layers.tracing`), so the traced branch holds at every size.
- Dynamic sizes: the batch is symbolic in every dynamic export; height and width are where the
  family's ``DenseBackbone.onnx_dynamic_size`` says its exporter follows its size-dependent parts,
  and otherwise fixed to the example's.
- float16: the model and the input converted to float16 before export (``fp16=True``); the file
  takes and returns float16.
"""
import copy
import os.path as osp
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from ..models.backbones import DenseBackbone
from ..models.layers import plain_ops

DEFAULT_OPSET = 18
EXPORTERS = ('torchscript', 'dynamo')
INPUT_NAME = 'input'
AXIS_NAMES = {0: 'batch', 2: 'height', 3: 'width'}


class OnnxExportError(RuntimeError):
    """The model cannot be exported as asked; the message says why and what works instead."""


@dataclass
class Comparison:
    """onnxruntime against PyTorch on one input: the largest absolute difference over all outputs,
    and the largest absolute PyTorch output (the scale the difference is relative to)."""
    input_shape: tuple[int, ...]
    max_abs_diff: float
    max_abs_output: float


def backbone_of(model: nn.Module) -> DenseBackbone | None:
    """The mmvitx backbone in ``model`` (or ``model`` itself), None where there is none."""
    return next((m for m in model.modules() if isinstance(m, DenseBackbone)), None)


def supports_dynamic_size(model: nn.Module) -> bool:
    """Whether ``model`` exports with symbolic height and width: its mmvitx backbone declares so
    (models around other backbones are assumed to)."""
    backbone = backbone_of(model)
    return backbone is None or backbone.onnx_dynamic_size


def exporter_of(model: nn.Module) -> str:
    """The exporter ``model``'s mmvitx backbone exports with (TorchScript's without one)."""
    backbone = backbone_of(model)
    return 'torchscript' if backbone is None else backbone.onnx_exporter


def as_tensors(outputs) -> list[torch.Tensor]:
    """A tensor, or nested tuples and lists of them, as a flat list (the ONNX outputs' order)."""
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    return [t for item in outputs for t in as_tensors(item)]


def export_onnx(model: nn.Module, example: torch.Tensor, path: str, dynamic: bool = False,
                opset: int = DEFAULT_OPSET, exporter: str | None = None,
                fp16: bool = False) -> tuple[int, ...]:
    """Export ``model(example)`` to ``path`` (an ONNX file, weights inside); ``model`` is left in
    eval mode, in float32.

    Args:
        dynamic: a symbolic batch, and symbolic height and width where ``supports_dynamic_size``.
        exporter: one of :data:`EXPORTERS`; None: the backbone's (``exporter_of``).
        fp16: export in float16 (a float16 copy of the model; float16 input and outputs).
    Returns:
        The input's symbolic dimensions: () static, (0, ) batch only, (0, 2, 3) batch and size.
    """
    exporter = exporter or exporter_of(model)
    if exporter not in EXPORTERS:
        raise OnnxExportError(f'unknown exporter {exporter!r}; one of {EXPORTERS}')
    dims = ((0, 2, 3) if supports_dynamic_size(model) else (0, )) if dynamic else ()
    model.eval()
    if fp16:
        model, example = copy.deepcopy(model).half(), example.half()
    if dims and example.shape[0] == 1:
        # Both exporters may take a size-1 dimension as constant (reshapes to batch 1 were found
        # baked into PSViT's windowed attention): trace with two images at least.
        example = example.expand(2, -1, -1, -1).contiguous()
    with plain_ops(), torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter warns that it is deprecated, and its tracer at every Python
        # use of a size; the branches it keeps are size-independent while tracing (``tracing()``)
        # and --verify checks other sizes.
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        try:
            if exporter == 'dynamo':
                _export_dynamo(model, example, path, dims, opset)
            else:
                _export_torchscript(model, example, path, dims, opset)
        except Exception as error:
            raise OnnxExportError(
                f'Exporting {type(model).__name__} at input {tuple(example.shape)} with the '
                f'{exporter} exporter ({describe_dims(dims, example)}, opset {opset}) failed: '
                f'{type(error).__name__}: {error}') from error
    return dims


def describe_dims(dims: tuple[int, ...], example: torch.Tensor) -> str:
    """The input's sizes in words: which are symbolic, which fixed."""
    height, width = example.shape[2:]
    if not dims:
        return f'static {height}x{width}'
    if dims == (0, ):
        return f'dynamic batch, static {height}x{width}'
    return 'dynamic batch, height and width'


def _export_torchscript(model, example, path, dims, opset):
    outputs = as_tensors(model(example))
    names = ['output'] if len(outputs) == 1 else [f'output_{i}' for i in range(len(outputs))]
    dynamic_axes = None
    if dims:
        dynamic_axes = {INPUT_NAME: {d: AXIS_NAMES[d] for d in dims}}
        for i, (name, output) in enumerate(zip(names, outputs)):
            axes = {0: 'batch'}
            if len(dims) > 1 and output.dim() == 4:
                axes.update({2: f'height_{i}', 3: f'width_{i}'})
            dynamic_axes[name] = axes
    torch.onnx.export(model, (example, ), path, dynamo=False, input_names=[INPUT_NAME],
                      output_names=names, opset_version=opset, dynamic_axes=dynamic_axes)


def _export_dynamo(model, example, path, dims, opset):
    dynamic_shapes = None
    if dims:
        # Dim.DYNAMIC lets torch.export derive the sizes' valid range itself (named dims with a
        # range fail on PSViT's padding arithmetic) and fails where it would specialise one.
        dynamic_shapes = ({d: torch.export.Dim.DYNAMIC for d in dims}, )
    torch.onnx.export(model, (example, ), path, dynamo=True, external_data=False,
                      input_names=[INPUT_NAME], opset_version=opset,
                      dynamic_shapes=dynamic_shapes, verbose=False)


def onnxruntime_session(path: str, threads: int | None = None):
    """An onnxruntime CPU inference session of the file at ``path`` (``threads``: intra-op
    threads, onnxruntime's default where None)."""
    import onnxruntime
    if not osp.isfile(path):
        raise FileNotFoundError(f'No ONNX file at {path}')
    options = onnxruntime.SessionOptions()
    # Errors only: a float16 file gets a warning for every node its CPU kernels cannot
    # constant-fold in float16, which is expected and not actionable.
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(path, options, providers=['CPUExecutionProvider'])


def compare_with_onnxruntime(model: nn.Module, path: str, inputs: list[torch.Tensor],
                             threads: int | None = None) -> list[Comparison]:
    """Run each input through ``model`` (eval, plain ops, as it is: float32) and the exported file
    in onnxruntime; a float16 file gets the input in float16, so the difference is the whole error
    of the float16 deployment."""
    session = onnxruntime_session(path, threads)
    input_dtype = np.float16 if session.get_inputs()[0].type == 'tensor(float16)' else np.float32
    comparisons = []
    model.eval()
    for x in inputs:
        with plain_ops(), torch.no_grad():
            expected = [t.float().numpy() for t in as_tensors(model(x))]
        try:
            actual = session.run(None, {INPUT_NAME: x.numpy().astype(input_dtype)})
        except Exception as error:  # onnxruntime's errors share no public base class
            raise OnnxExportError(
                f'onnxruntime failed on input {tuple(x.shape)}: {error}') from error
        if [a.shape for a in actual] != [e.shape for e in expected]:
            raise OnnxExportError(
                f'onnxruntime output shapes {[a.shape for a in actual]} differ from PyTorch\'s '
                f'{[e.shape for e in expected]} for input {tuple(x.shape)}')
        comparisons.append(Comparison(
            tuple(x.shape),
            max(float(np.abs(a.astype(np.float64) - e).max(initial=0))
                for a, e in zip(actual, expected)),
            max(float(np.abs(e).max(initial=0)) for e in expected)))
    return comparisons


def odd_side(side: int) -> int:
    """The nearest side from ``side`` up that is odd and no multiple of 7, so of no window
    (7 x 7 windows, 8 x 8 and 14 x 14 ones) nor stride."""
    side |= 1
    while side % 7 == 0:
        side += 2
    return side


def verification_sizes(height: int, width: int, dynamic: bool) -> list[tuple[int, int]]:
    """The input sizes a check runs: the export size, and with dynamic sizes two more, one
    smaller and one larger, neither a multiple of any window."""
    sizes = [(height, width)]
    if dynamic:
        sizes += [(odd_side(max(height * 3 // 4, 1)), odd_side(width * 5 // 4)),
                  (odd_side(height * 5 // 4), odd_side(max(width * 3 // 4, 1)))]
    return sizes


def verification_inputs(example: torch.Tensor, dims: tuple[int, ...],
                        seed: int = 0) -> list[torch.Tensor]:
    """Random inputs for a file exported from ``example`` with the symbolic ``dims``
    (``export_onnx``'s result): the example's shape, and with a symbolic batch two more inputs,
    of one more image and of one, at the other ``verification_sizes`` where the size is symbolic
    too."""
    batch, channels, height, width = example.shape
    sizes = verification_sizes(height, width, dynamic=len(dims) > 1)
    shapes = [(batch, height, width)]
    if dims:
        shapes += [(b, *sizes[min(i + 1, len(sizes) - 1)]) for i, b in enumerate((batch + 1, 1))]
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(b, channels, h, w, generator=generator) for b, h, w in shapes]


class SegmentorLogits(nn.Module):
    """An mmseg segmentor as image -> logits at the input size: ``encode_decode`` (backbone,
    neck, decode heads, resizing). The data preprocessor's normalisation is not part of it."""

    def __init__(self, segmentor: nn.Module):
        super().__init__()
        self.segmentor = segmentor

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        # A torch.Size img_shape makes mmseg resize the logits to exactly the input's size; its
        # heads read the first image's meta only, so one serves any batch.
        return self.segmentor.encode_decode(inputs, [dict(img_shape=inputs.shape[2:])])


class PoseHeatmaps(nn.Module):
    """An mmpose top-down estimator as person crop -> heatmaps (``mode='tensor'``: backbone,
    neck, head; no flip test, no decoding)."""

    def __init__(self, estimator: nn.Module):
        super().__init__()
        self.estimator = estimator

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.estimator(inputs, None, mode='tensor')


class DetectorFeatures(nn.Module):
    """An mmdet detector up to its neck (``extract_feat``): the RoI heads' proposal-dependent
    control flow is out of scope of the export."""

    def __init__(self, detector: nn.Module):
        super().__init__()
        self.detector = detector

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.detector.extract_feat(inputs))


CONFIG_PARTS = {'mmseg': SegmentorLogits, 'mmpose': PoseHeatmaps, 'mmdet': DetectorFeatures}


def build_config_model(config: str,
                       checkpoint: str | None = None) -> tuple[nn.Module, Config]:
    """The exported part of a config's model (:data:`CONFIG_PARTS` by its ``default_scope``), with
    the weights of ``checkpoint`` (a whole-model checkpoint, as training writes) or, without one,
    as built (random; ``init_cfg`` checkpoints are not loaded). Returns it and the config."""
    from mmengine.runner import load_checkpoint

    from ..utils.toolbox import build_toolbox_model
    try:
        # one process: SyncBN runs as the BatchNorm it is in inference
        model, cfg, _ = build_toolbox_model(config)
    except ValueError as error:
        raise OnnxExportError(str(error)) from None
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return CONFIG_PARTS[cfg.default_scope](model).eval(), cfg
