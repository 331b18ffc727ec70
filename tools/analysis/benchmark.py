"""Benchmark mmvitx backbones (or a config's whole model): parameters, FLOPs, latency, throughput
and peak memory, for inference and for a training step, optionally side by side with the reference
implementation.

    # one backbone, two input sizes, inference and training step, on 2 CPU threads
    python tools/analysis/benchmark.py fastervit --arch 0 --batch-size 8 --img-size 224 512 \\
        --mode infer train --device cpu --threads 2 --warmup 3 --repeat 10 \\
        --json out.json --plot out.png
    # against the reference implementation, same weights, same inputs, interleaved runs
    python tools/analysis/benchmark.py hrformer --arch t --img-size 224 --compare
    # ViTDet's windowed ViT-B at 1024 against timm's SAM image encoder (the same backbone)
    python tools/analysis/benchmark.py vit --arch b --img-size 1024 --compare --mode infer train \\
        --model-args with_cls_token=False window_size=14 use_rel_pos=True pretrain_img_size=1024
    # a config's whole model (random weights; inference, and losses on synthetic targets)
    python tools/analysis/benchmark.py --config configs/fastervit/fastervit-0_upernet_ade20k.py \\
        --img-size 512 --batch-size 2 --mode infer train

What is measured (docs/benchmark.md has the details):

- FAMILY ``--arch A``: the registered backbone family (``mmvitx.models.backbones.BACKBONES``:
  ``hrformer``, ``fastervit``, ``mvit``, ``psvit``) with its defaults (all outputs), random weights;
  ``--model-args KEY=VALUE`` passes constructor arguments (e.g. ``window_attention=True``).
  ``--arch`` takes a preset name or a Python dict literal of hyperparameters.
- ``--config CONFIG``: the config's model, built with mmengine after ``init_default_scope`` of the
  config's ``default_scope``; SyncBN becomes BN (one process); weights are random (``init_cfg``
  checkpoints are not loaded); the data preprocessor is skipped (the random batch is the network's
  input). ``--part model`` (default): inference is the toolbox's ``mode='predict'`` for mmdet and
  mmseg (data samples with image meta data only; post-processing included) and ``mode='tensor'``
  for mmpose; the training step computes the losses (``mode='loss'``) on synthetic targets for
  mmdet (three random boxes per image, label 0, box-shaped masks) and mmseg (a random label map),
  and uses ``mode='tensor'`` for mmpose. ``--part features``: ``model.extract_feat`` (backbone and
  neck). ``--part backbone``: ``model.backbone``.
- ``infer``: ``model.eval()`` under ``torch.no_grad()``. ``train``: ``model.train()``, forward,
  the sum of the losses (or of the outputs' means) as loss, backward (gradients reset to None
  before each step; no optimizer step).
- Latency: wall time of one step (one batch), CUDA synchronised; ``--warmup`` untimed steps (at
  least one, which also checks that the model runs), then ``--repeat`` timed ones; median,
  inter-quartile range, min and max. Throughput: batch size / median latency (images/s).
- FLOPs: ``mmvitx.utils.complexity.count_flops`` (one multiply-add = one FLOP, SDPA counted) of one
  image's forward in eval mode, as GFLOPs per image; a training step costs about 3x. For configs:
  of ``mode='tensor'`` (mmdet: of ``extract_feat``, the RoI heads' cost depends on the
  proposals).
- Peak memory: the largest amount allocated during one step beyond what was allocated before it
  (weights, inputs, caches): on CUDA ``torch.cuda.max_memory_allocated``, on CPU the running sum of
  the allocations and frees that ``torch.profiler`` (``profile_memory=True``) records, in a separate
  untimed step.
- ``--compare``: the reference implementation (FasterViT: the official ``fastervit`` package;
  HRFormer: mmpose's ``HRFormer``; MViTv2: timm's ``mvitv2_*``; ViT, DeiT, CaiT: timm's, and for
  ViTDet's windowed ViT timm's SAM image encoder; PSViT has none; each family's contract names
  it, ``mmvitx/testing/references.py`` builds it) is built with random weights at a trained
  model's scale, converted with ``mmvitx.models.pretrained.get_converter(family)`` into the
  mmvitx model, both outputs are checked to match (fp32, eval mode), then both run interleaved
  (alternate steps, alternating order) under the same conditions; ``--model-args with_cp=True``
  then runs mmvitx with activation checkpointing (the reference keeps its defaults). Ratios are
  mmvitx / reference: latency,
  throughput and peak memory; ``speed`` is the median of the per-repeat paired ratios
  reference time / mmvitx time (> 1: mmvitx faster).

``--interleave-sizes``: one model at all ``--img-size`` inputs, alternating between the sizes, with
each size's time relative to the first (median of the per-repeat ratios): how time grows with the
input, free of the machine's drift between separately timed sizes.

The tool keeps freed memory for reuse (``mmvitx.utils.allocator``; ``MMVITX_KEEP_FREED_MEMORY=0``
keeps glibc's defaults), as ``tools/train.py`` and ``tools/test.py`` do.

``--amp``: autocast, float16 on CUDA and bfloat16 on CPU (``--amp-dtype`` to choose). Output: a
table on stdout, progress on stderr, ``--json FILE`` and ``--plot FILE.png`` (throughput against
input size; needs matplotlib).
"""
import argparse
import ast
import importlib.util
import json
import math
import os
import os.path as osp
import platform
import re
import statistics
import sys
import time
from contextlib import contextmanager, nullcontext

import torch
import torch.nn as nn

from mmvitx.models.backbones import BACKBONES
from mmvitx.testing.equivalence import flatten_tensors
from mmvitx.testing.references import ReferenceUnavailable, quiet_imports, reference_builder

MODES = ('infer', 'train')


class BenchmarkError(Exception):
    """A request that cannot be run; printed as ``benchmark.py: error: ...`` without a traceback."""


def log(message: str) -> None:
    print(f'[benchmark] {message}', file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- arguments
def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r'(\d+)(?:[xX](\d+))?', text.strip())
    if not match or int(match[1]) <= 0 or (match[2] and int(match[2]) <= 0):
        raise argparse.ArgumentTypeError(f'input size must be N or HxW (positive), got {text!r}')
    height = int(match[1])
    return height, int(match[2]) if match[2] else height


def parse_model_args(items: list[str] | None) -> dict:
    kwargs = {}
    for item in items or []:
        key, sep, value = item.partition('=')
        if not sep or not key.isidentifier():
            raise BenchmarkError(f'--model-args takes KEY=VALUE pairs, got {item!r}')
        try:
            kwargs[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            kwargs[key] = value  # a plain string
    return kwargs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='benchmark.py', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('family', nargs='?',
                        help=f'backbone family: {", ".join(BACKBONES)} (or give --config)')
    parser.add_argument('--arch', help='preset of the family (default: the first of its arch_zoo, '
                        'its smallest) or a Python '
                        'dict literal of hyperparameters')
    parser.add_argument('--model-args', nargs='+', metavar='KEY=VALUE',
                        help='extra backbone constructor arguments (values as Python literals); '
                        'with --compare only with_cp and the options the family\'s reference '
                        'implements (ViT: ViTDet\'s window_size, use_rel_pos, with_cls_token, '
                        'pretrain_img_size, out_indices)')
    parser.add_argument('--config', help='benchmark the whole model of this mmdet/mmseg/mmpose '
                        'config instead of a backbone')
    parser.add_argument('--part', choices=('model', 'features', 'backbone'), default='model',
                        help='with --config: the whole model (inference, or losses on synthetic '
                        'targets), extract_feat (backbone + neck) or the backbone (default: '
                        'model)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--img-size', type=parse_size, nargs='+', default=[(224, 224)],
                        metavar='N|HxW', help='one or more input sizes (default 224)')
    parser.add_argument('--mode', nargs='+', choices=MODES, default=['infer'],
                        help='infer: eval + no_grad forward; train: forward + backward')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    parser.add_argument('--amp', action='store_true', help='autocast (mixed precision)')
    parser.add_argument('--amp-dtype', choices=('float16', 'bfloat16'),
                        help='autocast dtype (default: float16 on CUDA, bfloat16 on CPU)')
    parser.add_argument('--threads', type=int, help='torch.set_num_threads (default: unchanged)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed steps per model and mode')
    parser.add_argument('--repeat', type=int, default=10, help='timed steps per model and mode')
    parser.add_argument('--compare', action='store_true',
                        help='also run the reference implementation with the same weights, check '
                        'that the outputs match and report mmvitx / reference ratios')
    parser.add_argument('--interleave-sizes', action='store_true',
                        help='time the --img-size inputs in alternation (one step of each per '
                        'repeat) and report each size\'s time relative to the first, as the '
                        'median of the per-repeat ratios: how time grows with the input, robust '
                        'to the machine\'s drift (not with --compare)')
    parser.add_argument('--no-flops', action='store_true', help='skip counting FLOPs')
    parser.add_argument('--no-memory', action='store_true', help='skip the peak-memory step')
    parser.add_argument('--seed', type=int, default=0, help='seed of weights and inputs')
    parser.add_argument('--json', metavar='FILE', help='write the results as JSON')
    parser.add_argument('--plot', metavar='FILE', help='write a PNG of throughput against input '
                        'size (matplotlib)')
    return parser


def check_args(args) -> None:
    if (args.family is None) == (args.config is None):
        raise BenchmarkError('give a backbone family (one of: ' + ', '.join(BACKBONES) + ') or '
                             '--config CONFIG' + (', not both' if args.config else ''))
    if args.family is not None:
        args.family = args.family.lower()
        if args.family not in BACKBONES:
            raise BenchmarkError(f'unknown family {args.family!r}; valid: {", ".join(BACKBONES)}')
        if args.arch is None:
            args.arch = next(iter(BACKBONES[args.family].arch_zoo))
        args.arch = resolve_arch_arg(args.family, args.arch)
    else:
        if not osp.isfile(args.config):
            raise BenchmarkError(f'no such config: {args.config}')
        if args.arch is not None or args.model_args:
            raise BenchmarkError('--arch and --model-args apply to a family, not to --config '
                                 '(edit the config or use its --cfg-options in the training tools)')
        if args.compare:
            raise BenchmarkError('--compare works on backbones (FAMILY --arch A), not on --config')
    for name in ('batch_size', 'repeat'):
        if getattr(args, name) < 1:
            raise BenchmarkError(f'--{name.replace("_", "-")} must be at least 1')
    if args.warmup < 0:
        raise BenchmarkError('--warmup must be 0 or more')
    if args.threads is not None and args.threads < 1:
        raise BenchmarkError('--threads must be at least 1')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise BenchmarkError(f'--device {args.device}: CUDA is not available here (use --device '
                             'cpu)')
    if not re.fullmatch(r'cpu|cuda(:\d+)?', args.device):
        raise BenchmarkError(f'--device must be cpu, cuda or cuda:N, got {args.device!r}')
    if args.compare:
        allowed = COMPARE_MODEL_ARGS | BACKBONES[args.family].reference_options
        changed = set(parse_model_args(args.model_args)) - allowed
        if changed:
            raise BenchmarkError(
                f'--compare builds the configuration the reference implements; with it '
                f'--model-args takes only options that change how, not what, mmvitx computes, '
                f'or that the reference implements too ({", ".join(sorted(allowed))}), not '
                f'{", ".join(sorted(changed))}')
    if args.interleave_sizes:
        if args.compare:
            raise BenchmarkError('--interleave-sizes times one model at several sizes; --compare '
                                 'times two models at one size: use one or the other')
        if len(set(args.img_size)) < 2:
            raise BenchmarkError('--interleave-sizes needs two or more --img-size values')
    if args.plot and importlib.util.find_spec('matplotlib') is None:
        raise BenchmarkError('--plot needs matplotlib, which is not installed (pip install '
                             'matplotlib); leave out --plot or install it')
    args.mode = list(dict.fromkeys(args.mode))
    args.img_size = list(dict.fromkeys(args.img_size))


def resolve_arch_arg(family: str, arch: str):
    """A preset name (checked against the family's presets) or a dict literal."""
    cls = BACKBONES[family]
    if arch.lstrip().startswith('{'):
        try:
            value = ast.literal_eval(arch)
        except (ValueError, SyntaxError) as error:
            raise BenchmarkError(f'--arch {arch!r}: not a valid dict literal ({error})') from None
        if not isinstance(value, dict):
            raise BenchmarkError(f'--arch {arch!r}: expected a dict')
        return value
    from mmvitx.models.backbones.base import preset_name
    try:
        return preset_name(cls.__name__, arch, cls.arch_zoo, cls.arch_aliases)
    except KeyError as error:
        raise BenchmarkError(error.args[0]) from None


def arch_label(family: str, arch) -> str:
    return f'{BACKBONES[family].__name__}-{arch if isinstance(arch, str) else "custom"}'


# ----------------------------------------------------------------------------- models
def build_backbone(family: str, arch, **kwargs) -> nn.Module:
    cls = BACKBONES[family]
    try:
        return cls(arch=arch, **kwargs)
    except (KeyError, ValueError, TypeError) as error:
        raise BenchmarkError(f'cannot build {cls.__name__}(arch={arch!r}, '
                             f'{", ".join(f"{k}={v!r}" for k, v in kwargs.items())}): '
                             f'{error}') from None


class ConfigModel(nn.Module):
    """A config's model as ``forward(inputs) -> tensors``, for the part chosen with ``--part``.

    ``model``: in eval mode the toolbox's inference (mmdet and mmseg ``mode='predict'`` with
    data samples holding image meta data only, post-processing included; mmpose ``mode='tensor'``,
    the heatmaps); in train mode the losses (mmdet and mmseg ``mode='loss'`` on synthetic targets:
    three random boxes of label 0 with box-shaped masks per image, or a random label map; mmpose
    ``mode='tensor'``, whose outputs' means then stand in for the loss). ``features``:
    ``model.extract_feat`` (backbone and neck). ``backbone``: ``model.backbone``.
    ``flops_mode`` switches to the traceable forward that FLOPs are counted on (``mode='tensor'``,
    or ``extract_feat`` for mmdet, whose RoI heads in tensor mode run on every proposal).
    """

    def __init__(self, model: nn.Module, part: str, scope: str):
        super().__init__()
        self.model = model
        self.part = part
        self.scope = scope
        self.flops_mode = False
        self._samples = {}

    @property
    def flops_scope(self) -> str:
        if self.part != 'model':
            return self.part
        return 'backbone + neck' if self.scope == 'mmdet' else "mode='tensor'"

    def _data_samples(self, inputs, targets: bool):
        key = (tuple(inputs.shape), inputs.device, targets)
        if key not in self._samples:
            self._samples[key] = self._make_data_samples(inputs, targets)
        return self._samples[key]

    def _make_data_samples(self, inputs, targets: bool):
        batch, height, width = inputs.shape[0], *inputs.shape[-2:]
        meta = dict(img_shape=(height, width), ori_shape=(height, width),
                    pad_shape=(height, width), batch_input_shape=(height, width),
                    scale_factor=(1., 1.), flip=False, flip_direction=None)
        generator = torch.Generator().manual_seed(0)
        if self.scope == 'mmdet':
            import numpy as np
            from mmdet.structures import DetDataSample
            from mmdet.structures.mask import BitmapMasks
            from mmengine.structures import InstanceData
            samples = []
            for _ in range(batch):
                sample = DetDataSample(metainfo=meta)
                if targets:
                    size = torch.tensor([width, height], dtype=torch.float32)
                    corner = torch.rand(3, 2, generator=generator) * size / 2
                    extent = (0.125 + torch.rand(3, 2, generator=generator) * 0.375) * size
                    boxes = torch.cat([corner, corner + extent], dim=1)
                    masks = np.zeros((3, height, width), dtype=np.uint8)
                    for mask, (x1, y1, x2, y2) in zip(masks, boxes.round().long().tolist()):
                        mask[y1:y2, x1:x2] = 1
                    sample.gt_instances = InstanceData(
                        bboxes=boxes, labels=torch.zeros(3, dtype=torch.long),
                        masks=BitmapMasks(masks, height, width))
                samples.append(sample.to(inputs.device))
            return samples
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        head = self.model.decode_head
        head = head[0] if isinstance(head, nn.ModuleList) else head
        samples = []
        for _ in range(batch):
            sample = SegDataSample(metainfo=meta)
            if targets:
                labels = torch.randint(0, head.num_classes, (1, height, width),
                                       generator=generator)
                sample.gt_sem_seg = PixelData(data=labels)
            samples.append(sample.to(inputs.device))
        return samples

    def forward(self, inputs):
        if self.part == 'backbone':
            return tuple(flatten_tensors(self.model.backbone(inputs)))
        if self.part == 'features' or (self.flops_mode and self.scope == 'mmdet'):
            return tuple(flatten_tensors(self.model.extract_feat(inputs)))
        if self.scope in ('mmdet', 'mmseg') and not self.flops_mode:
            if self.training:
                return tuple(flatten_tensors(self.model(inputs, self._data_samples(inputs, True),
                                                        mode='loss')))
            self.model(inputs, self._data_samples(inputs, False), mode='predict')
            return ()
        return tuple(flatten_tensors(self.model(inputs, None, mode='tensor')))


def build_config_model(config: str, part: str) -> tuple[nn.Module, str]:
    from mmvitx.utils.toolbox import build_toolbox_model
    try:
        with quiet_imports():
            model, cfg, replaced = build_toolbox_model(config)
    except ValueError as error:
        raise BenchmarkError(f'--config: {error}') from None
    if replaced:
        log('SyncBN replaced by BN (one process)')
    scope = cfg.default_scope
    needed = {'backbone': 'backbone', 'features': 'extract_feat'}.get(part)
    if needed and not hasattr(model, needed):
        raise BenchmarkError(f'{config}: the model ({type(model).__name__}) has no {needed}')
    name = osp.splitext(osp.basename(config))[0] + ('' if part == 'model' else f' ({part})')
    return ConfigModel(model, part, scope), name


# Backbone options that change how mmvitx computes, not what: allowed with --compare.
COMPARE_MODEL_ARGS = {'with_cp'}


def check_outputs(model, reference, inputs, device) -> dict:
    """Both models in eval mode, fp32, no_grad, on the same inputs: the largest difference of
    their outputs against a tolerance of 1e-4 (CPU; 1e-3 on CUDA) times max(1, max |reference|)."""
    model.eval()
    reference.eval()
    tf32 = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        with torch.no_grad():
            actual, expected = model(inputs), reference(inputs)
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = tf32
    actual, expected = flatten_tensors(actual), flatten_tensors(expected)
    shapes = [tuple(t.shape) for t in actual], [tuple(t.shape) for t in expected]
    if shapes[0] != shapes[1]:
        raise BenchmarkError(f'output shapes differ: mmvitx {shapes[0]}, reference {shapes[1]}')
    diff = max(float((a.float() - e.float()).abs().max()) for a, e in zip(actual, expected))
    scale = max(float(e.abs().max()) for e in expected)
    tolerance = (1e-4 if device.type == 'cpu' else 1e-3) * max(1., scale)
    return dict(outputs_match=bool(diff <= tolerance), max_abs_diff=diff,
                max_abs_reference=scale, tolerance=tolerance, shapes=shapes[0])


# ----------------------------------------------------------------------------- measurement
def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_gflops(model: nn.Module, size, device) -> float | None:
    from mmvitx.utils.complexity import count_flops
    model.eval()
    x = torch.randn(1, 3, *size, device=device)
    if isinstance(model, ConfigModel):
        model.flops_mode = True
    try:
        with torch.no_grad(), quiet_imports():
            return count_flops(model, (x, )) / 1e9
    except Exception as error:  # tracing can fail on data-dependent models
        log(f'FLOPs not counted ({type(error).__name__}: {str(error).splitlines()[0][:200]})')
        return None
    finally:
        if isinstance(model, ConfigModel):
            model.flops_mode = False


def amp_context(device, amp_dtype):
    if amp_dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=amp_dtype)


def make_step(model: nn.Module, mode: str, inputs: torch.Tensor, device, amp_dtype):
    """A function running one step of ``mode`` on ``inputs``."""
    if mode == 'infer':
        def step():
            with torch.no_grad(), amp_context(device, amp_dtype):
                model(inputs)
    else:
        def step():
            for param in model.parameters():
                param.grad = None
            with amp_context(device, amp_dtype):
                outputs = [t for t in flatten_tensors(model(inputs))
                           if t.is_floating_point() and t.requires_grad]
                if not outputs:
                    raise BenchmarkError('the model output has no tensor to back-propagate from')
                loss = sum(t.float().mean() for t in outputs)
            loss.backward()
    return step


def set_mode(model: nn.Module, mode: str) -> None:
    model.train(mode == 'train')  # (mmpose's HRFormer.train returns None: no chaining)


def sync(device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timed(step, device) -> float:
    sync(device)
    start = time.perf_counter()
    step()
    sync(device)
    return time.perf_counter() - start


@contextmanager
def native_stderr_silenced():
    """Hide what the profiler's C++ side prints on file descriptor 2 (start/stop notes, a
    'gpuGetDeviceCount failed' line on machines without a GPU); Python errors still show."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, 'w') as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def peak_memory_mb(step, model: nn.Module, device) -> float | None:
    """Peak memory of one step beyond what was allocated before it (MiB), the gradients of a
    training step included (those of the previous step are released first)."""
    for param in model.parameters():
        param.grad = None
    if device.type == 'cuda':
        sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        step()
        sync(device)
        return (torch.cuda.max_memory_allocated(device) - before) / 2**20
    from torch.profiler import ProfilerActivity, profile
    with native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU],
                                           profile_memory=True) as prof:
        step()
    try:
        events = []
        stack = list(prof.profiler.kineto_results.experimental_event_tree())
        while stack:
            node = stack.pop()
            stack.extend(node.children)
            fields = node.typed[1]
            if type(fields).__name__ == '_ExtraFields_Allocation' and \
                    str(fields.device).startswith('cpu'):
                events.append((node.start_time_ns, fields.alloc_size))
    except Exception as error:  # an experimental API
        log(f'CPU peak memory not available ({type(error).__name__}: {error})')
        return None
    current = peak = 0
    for _, size in sorted(events, key=lambda e: e[0]):
        current += size
        peak = max(peak, current)
    return peak / 2**20


def summarize(times: list[float], batch: int) -> dict:
    ms = [t * 1e3 for t in times]
    median = statistics.median(ms)
    q1, q3 = (statistics.quantiles(ms, n=4, method='inclusive')[i] for i in (0, 2)) \
        if len(ms) > 1 else (median, median)
    return dict(
        latency_ms=dict(median=median, q1=q1, q3=q3, iqr=q3 - q1, min=min(ms), max=max(ms),
                        mean=statistics.fmean(ms),
                        std=statistics.stdev(ms) if len(ms) > 1 else 0., samples=ms),
        throughput=dict(median=batch * 1e3 / median, min=batch * 1e3 / max(ms),
                        max=batch * 1e3 / min(ms)))


def run_interleaved(entries: list[dict], mode: str, args, device, amp_dtype) -> None:
    """Warm-up, memory step and timed repeats of every entry (a model and its ``inputs``),
    alternating between the entries (and their order) so that machine noise hits all of them
    alike."""
    for entry in entries:
        set_mode(entry['model'], mode)
        entry['step'] = make_step(entry['model'], mode, entry['inputs'], device, amp_dtype)
        entry['times'] = []
    order = lambda i: entries if i % 2 == 0 else entries[::-1]  # noqa: E731
    for entry in entries:  # a first step of each, with a clear error if the model fails
        try:
            entry['step']()
        except Exception as error:
            inputs = entry['inputs']
            hint = ''
            if 'Expected more than 1 value per channel' in str(error):
                hint = (' (a BatchNorm after global pooling, e.g. in a PPM head, needs a batch of '
                        '2 or more in training: raise --batch-size)')
            elif isinstance(error, torch.cuda.OutOfMemoryError):
                hint = ' (out of memory: lower --batch-size or --img-size)'
            raise BenchmarkError(
                f"{entry['name']} [{entry['impl']}] failed in {mode} at "
                f"{inputs.shape[-2]}x{inputs.shape[-1]}, batch {inputs.shape[0]}: "
                f'{type(error).__name__}: {error}{hint}') from error
    for i in range(max(args.warmup - 1, 0)):
        for entry in order(i):
            entry['step']()
    for entry in entries:
        entry['memory'] = None if args.no_memory else peak_memory_mb(entry['step'],
                                                                      entry['model'], device)
    for i in range(args.repeat):
        for entry in order(i):
            entry['times'].append(timed(entry['step'], device))
        if args.repeat >= 8 and (i + 1) % (args.repeat // 4) == 0 and i + 1 < args.repeat:
            log(f'  {i + 1}/{args.repeat} repeats')


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def paired_ratio(reference_times, model_times) -> dict:
    ratios = [r / m for r, m in zip(reference_times, model_times)]
    median = statistics.median(ratios)
    q1, q3 = (statistics.quantiles(ratios, n=4, method='inclusive')[i] for i in (0, 2)) \
        if len(ratios) > 1 else (median, median)
    return dict(median=median, q1=q1, q3=q3)


# ----------------------------------------------------------------------------- output
def fmt(value, spec='.1f', missing='-'):
    return missing if value is None or (isinstance(value, float) and math.isnan(value)) \
        else format(value, spec)


def label_of(row: dict) -> str:
    return row['name'] + (f" [{row['impl']}]" if row['is_reference'] else '')


def format_table(results: list[dict], comparisons: list[dict], scaling: list[dict]) -> str:
    header = ['model', 'mode', 'input', 'batch', 'params (M)', 'GFLOPs/img', 'latency ms',
              'IQR ms', 'img/s', 'peak MiB']
    rows = [[label_of(r), r['mode'],
             'x'.join(map(str, r['img_size'])), str(r['batch_size']), fmt(r['params'] / 1e6, '.3f'),
             fmt(r['gflops'], '.2f'), fmt(r['latency_ms']['median'], '.2f'),
             fmt(r['latency_ms']['iqr'], '.2f'), fmt(r['throughput']['median'], '.2f'),
             fmt(r['peak_memory_mb'], '.1f')] for r in results]
    text = render(header, rows)
    scopes = ', '.join(sorted({r['flops_of'] for r in results}))
    text += (f'\nGFLOPs/img: one image\'s forward ({scopes}); latency: median per batch, IQR '
             f'its inter-quartile range; img/s: batch / median latency; peak MiB: beyond the '
             f'memory held before the step')
    if comparisons:
        header = ['input', 'mode', 'reference', 'outputs', 'max |diff|', 'speed (ref t / mmvitx t)',
                  'latency ratio', 'throughput ratio', 'memory ratio']
        rows = [['x'.join(map(str, c['img_size'])), c['mode'], c['reference'],
                 'match' if c['outputs_match'] else 'DIFFER', fmt(c['max_abs_diff'], '.1e'),
                 f"{c['speed']['median']:.2f} [{c['speed']['q1']:.2f}-{c['speed']['q3']:.2f}]",
                 fmt(c['latency_ratio'], '.2f'), fmt(c['throughput_ratio'], '.2f'),
                 fmt(c['memory_ratio'], '.2f')] for c in comparisons]
        text += '\n\nmmvitx / reference (speed > 1 and ratios of latency and memory < 1: ' \
                'mmvitx better)\n' + render(header, rows)
    if scaling:
        header = ['mode', 'input', 'vs input', 'pixels x', 'time x (paired)', 'time / pixels']
        rows = [[c['mode'], 'x'.join(map(str, c['img_size'])),
                 'x'.join(map(str, c['baseline_size'])), f"{c['pixel_ratio']:.2f}",
                 f"{c['time_ratio']['median']:.2f} [{c['time_ratio']['q1']:.2f}-"
                 f"{c['time_ratio']['q3']:.2f}]", f"{c['time_per_pixel_ratio']:.2f}"]
                for c in scaling]
        text += '\n\nTime against input size (sizes interleaved; time x: median of the ' \
                'per-repeat ratios, [IQR]; time / pixels 1.00: linear in pixels)\n' + \
                render(header, rows)
    return text


def render(header, rows) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]

    def line(cells):
        return '| ' + ' | '.join(str(c).ljust(w) for c, w in zip(cells, widths)) + ' |'

    return '\n'.join([line(header), '|' + '|'.join('-' * (w + 2) for w in widths) + '|',
                      *map(line, rows)])


def write_plot(path: str, results: list[dict]) -> None:
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        raise BenchmarkError('--plot needs matplotlib, which is not installed '
                             '(pip install matplotlib)') from None
    modes = [m for m in MODES if any(r['mode'] == m for r in results)]
    fig, axes = plt.subplots(1, len(modes), figsize=(6 * len(modes), 4.5), squeeze=False)
    for ax, mode in zip(axes[0], modes):
        series = {}
        for r in results:
            if r['mode'] == mode:
                label = label_of(r)
                series.setdefault(label, []).append(r)
        for label, rows in series.items():
            rows = sorted(rows, key=lambda r: r['img_size'][0] * r['img_size'][1])
            xs = [math.sqrt(r['img_size'][0] * r['img_size'][1]) for r in rows]
            ys = [r['throughput']['median'] for r in rows]
            lows = [y - r['throughput']['min'] for y, r in zip(ys, rows)]
            highs = [r['throughput']['max'] - y for y, r in zip(ys, rows)]
            ax.errorbar(xs, ys, yerr=[lows, highs], marker='o', capsize=3, label=label)
        sizes = sorted({tuple(r['img_size']) for r in results}, key=lambda s: s[0] * s[1])
        ax.set_xticks([math.sqrt(h * w) for h, w in sizes])
        ax.set_xticklabels([f'{h}' if h == w else f'{h}x{w}' for h, w in sizes])
        values = [r['throughput'][k] for r in results if r['mode'] == mode for k in ('min', 'max')]
        if max(values) > 20 * min(values):  # a log scale where the series are far apart
            ax.set_yscale('log')
        else:
            ax.set_ylim(0, 1.3 * max(values))  # room for the legend
        ax.set_xlabel('input size (px)')
        ax.set_ylabel('throughput (images/s, median; bars: min-max)')
        first = results[0]
        ax.set_title(f"{mode}, batch {first['batch_size']}, {first['device']}"
                     f"{', AMP' if first['amp'] else ''}")
        ax.grid(True, which='both', alpha=0.3)
        ax.legend(fontsize='small')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def environment(device, args, amp_dtype) -> dict:
    import mmvitx
    info = dict(python=platform.python_version(), torch=torch.__version__,
                mmvitx=mmvitx.__version__, device=str(device), threads=torch.get_num_threads(),
                amp=args.amp, amp_dtype=str(amp_dtype).replace('torch.', '') if amp_dtype else None,
                platform=platform.platform(), cpu=platform.processor() or platform.machine(),
                malloc_keeps_freed_memory=args.keeps_freed_memory)
    try:
        with open('/proc/cpuinfo') as f:
            info['cpu'] = next(line.split(':', 1)[1].strip() for line in f
                               if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    if device.type == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(device)
    return info


# ----------------------------------------------------------------------------- main
def benchmark(args) -> dict:
    device = torch.device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    amp_dtype = None
    if args.amp:
        amp_dtype = getattr(torch, args.amp_dtype or ('float16' if device.type == 'cuda'
                                                      else 'bfloat16'))
    model_kwargs = parse_model_args(args.model_args)
    build_pair = reference_builder(BACKBONES[args.family]) if args.compare else None
    if args.compare and build_pair is None:
        raise BenchmarkError(
            f'--compare: {BACKBONES[args.family].__name__} has no reference implementation; '
            f'references exist for {", ".join(f for f, c in BACKBONES.items() if c.reference)}')
    log(f'torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads'
        f'{f", AMP {amp_dtype}" if amp_dtype else ""}')

    results, comparisons, scaling = [], [], []
    model = None  # with --compare, built per input size with its reference
    if args.config:
        log(f'building the model of {args.config} ({args.part})')
        model, name = build_config_model(args.config, args.part)
    else:
        name = arch_label(args.family, args.arch)
        if model_kwargs:
            name += f" ({', '.join(f'{k}={v}' for k, v in model_kwargs.items())})"
        if not args.compare:
            log(f'building {name}')
            torch.manual_seed(args.seed)
            model = build_backbone(args.family, args.arch, **model_kwargs)
    # Entries timed together: one size with its reference, or (--interleave-sizes) all sizes.
    groups = [args.img_size] if args.interleave_sizes else [[size] for size in args.img_size]
    for sizes in groups:
        reference = None
        if args.compare:
            size = sizes[0]
            log(f'building {name} and its reference for {size[0]}x{size[1]}, converting the '
                'reference weights')
            torch.manual_seed(args.seed)
            try:
                model, reference, ref_name = build_pair(args.arch, size, args.seed,
                                                        **model_kwargs)
            except ReferenceUnavailable as error:
                raise BenchmarkError(f'--compare {args.family}: {error}') from None
            reference.to(device)
        model.to(device)
        entries = []
        for size in sizes:
            generator = torch.Generator().manual_seed(args.seed + 1)
            inputs = torch.randn(args.batch_size, 3, *size, generator=generator).to(device)
            entries.append(dict(impl='config' if args.config else 'mmvitx', name=name,
                                model=model, is_reference=False, size=size, inputs=inputs))
        check = None
        if reference is not None:
            check = check_outputs(model, reference, entries[0]['inputs'][:2], device)
            log(f'outputs {"match" if check["outputs_match"] else "DIFFER"}: max |diff| '
                f'{check["max_abs_diff"]:.2e} (tolerance {check["tolerance"]:.1e})')
            # The reference runs with its defaults: its row does not carry mmvitx's --model-args.
            entries.append(dict(entries[0], impl=ref_name, model=reference, is_reference=True,
                                name=arch_label(args.family, args.arch)))
        for entry in entries:
            entry['params'] = count_params(entry['model'])
            entry['gflops'] = None
            entry['flops_of'] = (entry['model'].flops_scope
                                 if isinstance(entry['model'], ConfigModel) else 'backbone')
            if not args.no_flops:
                size = entry['size']
                log(f'counting FLOPs of {entry["name"]} [{entry["impl"]}] at {size[0]}x{size[1]}')
                entry['gflops'] = count_gflops(entry['model'], size, device)
        for mode in args.mode:
            what = (f'{mode} at ' + ', '.join(f'{h}x{w}' for h, w in sizes)
                    + f', batch {args.batch_size}: {args.warmup} warm-up and {args.repeat} timed '
                    'steps')
            if len(entries) > 1:
                what += ' per size, interleaved' if args.interleave_sizes else \
                    ' per model, interleaved'
            log(what)
            run_interleaved(entries, mode, args, device, amp_dtype)
            rows = []
            for entry in entries:
                row = dict(impl=entry['impl'], is_reference=entry['is_reference'],
                           name=entry['name'], mode=mode,
                           img_size=list(entry['size']), batch_size=args.batch_size,
                           device=str(device), amp=args.amp, params=entry['params'],
                           gflops=entry['gflops'], flops_of=entry['flops_of'],
                           peak_memory_mb=entry['memory'],
                           **summarize(entry['times'], args.batch_size))
                rows.append(row)
                log(f"  {row['name']} [{row['impl']}] at {'x'.join(map(str, row['img_size']))}: "
                    f"{row['latency_ms']['median']:.2f} ms, "
                    f"{row['throughput']['median']:.2f} img/s, peak "
                    f"{fmt(row['peak_memory_mb'], '.1f')} MiB")
            results.extend(rows)
            if reference is not None:
                own, ref = rows
                comparison = dict(
                    img_size=list(sizes[0]), mode=mode, reference=ref['impl'],
                    **{k: check[k] for k in ('outputs_match', 'max_abs_diff', 'tolerance')},
                    speed=paired_ratio(entries[1]['times'], entries[0]['times']),
                    latency_ratio=ratio(own['latency_ms']['median'], ref['latency_ms']['median']),
                    throughput_ratio=ratio(own['throughput']['median'],
                                           ref['throughput']['median']),
                    memory_ratio=ratio(own['peak_memory_mb'], ref['peak_memory_mb']),
                    gflops_ratio=ratio(own['gflops'], ref['gflops']))
                comparisons.append(comparison)
                log(f"  mmvitx / reference: speed {comparison['speed']['median']:.2f}, memory "
                    f"{fmt(comparison['memory_ratio'], '.2f')}")
            if args.interleave_sizes:
                first = entries[0]
                for entry in entries[1:]:
                    pixels = (entry['size'][0] * entry['size'][1]) / (first['size'][0] *
                                                                      first['size'][1])
                    time_ratio = paired_ratio(entry['times'], first['times'])
                    scaling.append(dict(mode=mode, img_size=list(entry['size']),
                                        baseline_size=list(first['size']), pixel_ratio=pixels,
                                        time_ratio=time_ratio,
                                        time_per_pixel_ratio=time_ratio['median'] / pixels))
                    log(f"  {'x'.join(map(str, entry['size']))} / "
                        f"{'x'.join(map(str, first['size']))}: {pixels:.2f}x the pixels, "
                        f"{time_ratio['median']:.2f}x the time")
        for entry in entries:
            entry.pop('step', None)
            entry.pop('inputs', None)
        if reference is not None:
            del reference, entries
    memory_method = ('torch.cuda.max_memory_allocated - memory_allocated before the step'
                     if device.type == 'cuda' else
                     'torch.profiler (profile_memory): peak of the running sum of CPU allocations '
                     'minus frees during the step')
    return dict(
        command=' '.join(['python', 'tools/analysis/benchmark.py', *sys.argv[1:]])
        if args.argv is None else ' '.join(['python', 'tools/analysis/benchmark.py', *args.argv]),
        settings=dict(family=args.family, arch=args.arch, model_args=model_kwargs,
                      config=args.config, part=args.part if args.config else None,
                      batch_size=args.batch_size, img_sizes=[list(s) for s in args.img_size],
                      modes=args.mode, warmup=args.warmup, repeat=args.repeat,
                      compare=args.compare, interleave_sizes=args.interleave_sizes,
                      seed=args.seed),
        environment=dict(environment(device, args, amp_dtype), memory_method=memory_method),
        results=results, comparisons=comparisons, scaling=scaling)


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    args.argv = argv
    from mmvitx.utils.allocator import keep_freed_memory
    args.keeps_freed_memory = keep_freed_memory()
    try:
        check_args(args)
        report = benchmark(args)
        print(format_table(report['results'], report['comparisons'], report['scaling']),
              flush=True)
        if args.json:
            os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
            with open(args.json, 'w') as f:
                json.dump(report, f, indent=2)
            log(f'wrote {args.json}')
        if args.plot:
            write_plot(args.plot, report['results'])
            log(f'wrote {args.plot}')
    except BenchmarkError as error:
        if argv is not None:  # called from Python (tests): let the caller see it
            raise
        sys.exit(f'benchmark.py: error: {error}')
    if args.compare and not all(c['outputs_match'] for c in report['comparisons']):
        message = 'the outputs of mmvitx and the reference differ (see the table)'
        if argv is not None:
            raise BenchmarkError(message)
        sys.exit(f'benchmark.py: error: {message}')
    return report


if __name__ == '__main__':
    main()
