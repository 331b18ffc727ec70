"""Config handling shared by ``tools/train.py`` and ``tools/test.py``.

The same two tools run configs of mmdet, mmsegmentation and mmpose; the config's ``default_scope``
tells which toolbox it belongs to. The command-line flags map onto each toolbox's config the way the
toolbox's own ``tools/train.py`` / ``tools/test.py`` do, plus what CPU-only distributed runs need.
"""
import datetime
import importlib
import logging
import os
import os.path as osp
import re
import sys

import torch
from mmengine.config import Config
from mmengine.device import (is_cuda_available, is_mlu_available, is_musa_available,
                             is_npu_available)
from mmengine.dist import get_rank
from mmengine.logging import print_log
from mmengine.registry import MODEL_WRAPPERS, RUNNERS
from mmengine.runner import Runner
from torch.nn.parallel import DistributedDataParallel

from .checkpoint import checkpoint_file_problem

TOOLBOXES = ('mmdet', 'mmseg', 'mmpose')
# mmcv's names of synchronised batch norm layers (torch's and mmcv's own); both need CUDA.
SYNC_BN_TYPES = ('SyncBN', 'MMSyncBN')


class ToolError(Exception):
    """A command line that cannot work with this config or on this machine; the tools print the
    message and exit instead of showing a traceback."""


def load_config(config: str, launcher: str, cfg_options: dict | None,
                work_dir: str | None) -> Config:
    """Read ``config``, apply ``--cfg-options`` and choose the work directory like the toolboxes:
    ``--work-dir`` > ``work_dir`` in the config > ``./work_dirs/<config file stem>``."""
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
        warn_unfinished_schedules(cfg, cfg_options)
    align_checkpoint_unit(cfg)
    if cfg.get('default_scope') not in TOOLBOXES:
        raise ToolError(f'{config}: default_scope is {cfg.get("default_scope")!r}; the tools run '
                        f'configs of {", ".join(TOOLBOXES)} (default_scope tells which).')
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    return cfg


def warn_unfinished_schedules(cfg: Config, cfg_options: dict) -> list[str]:
    """Warn (and return the warnings) where ``--cfg-options`` shortened the training loop
    (``train_cfg.max_iters`` / ``max_epochs``) but a parameter scheduler still ends later: its
    learning rate would stop part-way, e.g. a 40-iteration run ending at a warm-up-level lr
    instead of 0. The warning names the override and the option to add."""
    warnings = []
    for key, by_epoch in (('train_cfg.max_iters', False), ('train_cfg.max_epochs', True)):
        if key not in cfg_options:
            continue
        length = cfg_options[key]
        for i, scheduler in enumerate(_as_list(cfg.get('param_scheduler') or [])):
            end = scheduler.get('end')
            if (end is None or scheduler.get('by_epoch', True) != by_epoch
                    or not isinstance(length, int) or end <= length):
                continue
            unit = 'epoch' if by_epoch else 'iteration'
            warnings.append(
                f'--cfg-options {key}={length}, but param_scheduler[{i}] ({scheduler.get("type")}) '
                f'ends at {unit} {end}: the schedule stops part-way. Add '
                f'param_scheduler.{i}.end={length} (and shorten the schedulers before it) to '
                f'finish it.')
    for warning in warnings:
        _log_once(warning, logging.WARNING)
    return warnings


def align_checkpoint_unit(cfg: Config) -> str | None:
    """Make ``default_hooks.checkpoint`` count in the training loop's unit; returns the warning.

    mmpose's CheckpointHook counts epochs (mmengine's default) and mmseg's counts iterations. A run
    switched to the other loop (e.g. an mmpose config with ``train_cfg.type=IterBasedTrainLoop
    train_cfg.max_iters=...``) would otherwise save no checkpoint at its ``interval``: an
    iteration-based loop has no epochs, and an epoch-based one never calls the per-iteration
    save."""
    train_cfg, checkpoint = cfg.get('train_cfg'), cfg.get('default_hooks', {}).get('checkpoint')
    if not train_cfg or not checkpoint:
        return None
    loop = train_cfg.get('type') or (
        'EpochBasedTrainLoop' if train_cfg.get('by_epoch') else 'IterBasedTrainLoop')
    if loop not in ('EpochBasedTrainLoop', 'IterBasedTrainLoop'):
        return None  # a custom loop: its unit is unknown here
    loop_by_epoch = loop == 'EpochBasedTrainLoop'
    if checkpoint.get('by_epoch', True) == loop_by_epoch:
        return None
    checkpoint.by_epoch = loop_by_epoch
    unit = 'epochs' if loop_by_epoch else 'iterations'
    warning = (f'train_cfg runs an {loop}, but default_hooks.checkpoint counted '
               f'{"iterations" if loop_by_epoch else "epochs"}: set its by_epoch={loop_by_epoch}, '
               f'so that interval={checkpoint.get("interval", 1)} counts {unit}.')
    _log_once(warning, logging.WARNING)
    return warning


def enable_amp(cfg: Config) -> None:
    """``--amp``: train with mmengine's ``AmpOptimWrapper`` (dynamic loss scale)."""
    # The devices AmpOptimWrapper accepts; fail here rather than on its assertion after the model
    # and data are built.
    if not (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available()):
        raise ToolError('--amp needs a GPU: mmengine trains with mixed precision (AmpOptimWrapper) '
                        'only on CUDA, NPU, MLU or MUSA devices, and none is available here. '
                        'Leave out --amp to train in full precision.')
    optim_wrapper = cfg.optim_wrapper
    if optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in the config.', logger='current')
        return
    if optim_wrapper.get('type', 'OptimWrapper') != 'OptimWrapper':
        raise ToolError(f'--amp replaces optim_wrapper type OptimWrapper by AmpOptimWrapper, but '
                        f'the config uses {optim_wrapper.type!r}.')
    optim_wrapper.type = 'AmpOptimWrapper'
    optim_wrapper.loss_scale = 'dynamic'


def set_resume(cfg: Config, resume: str | None) -> None:
    """``--resume`` alone (``'auto'``): the latest checkpoint of the work directory that loads
    (see :func:`find_resumable_checkpoint`), or, where there is none, a new run with a warning;
    ``--resume PATH``: that checkpoint, which must load.

    The checkpoint is chosen here, before the Runner exists, and given to it as ``load_from``:
    mmengine's own auto-resume takes the file named in ``last_checkpoint`` even when it is broken,
    and logs "Auto resumed from the latest checkpoint None." when there is nothing to resume."""
    if resume == 'auto':
        checkpoint = find_resumable_checkpoint(cfg.work_dir)
        if checkpoint is None:
            start = (f'from load_from={cfg.load_from}' if cfg.get('load_from') else
                     'from scratch')
            _log_once(f'--resume: nothing to resume, the work directory {cfg.work_dir} holds no '
                      f'checkpoint; training starts {start}.', logging.WARNING)
            cfg.resume = False
            return
        _log_once(f'--resume: resuming from {checkpoint}, the latest checkpoint in the work '
                  f'directory {cfg.work_dir}.')
        cfg.resume = True
        cfg.load_from = checkpoint
    elif resume is not None:
        if '://' not in resume:  # local files are checked now; other backends when loading
            problem = checkpoint_file_problem(resume)
            if problem is not None:
                raise ToolError(f'--resume: {problem}')
        cfg.resume = True
        cfg.load_from = resume


# The names CheckpointHook gives checkpoints by default (filename_tmpl), with the epoch or
# iteration they were saved at.
_NUMBERED_CHECKPOINT = re.compile(r'(?:epoch|iter)_(\d+)\.pth')


def find_resumable_checkpoint(work_dir: str) -> str | None:
    """The checkpoint ``--resume`` resumes from: the one named in ``work_dir/last_checkpoint``
    (written by mmengine's CheckpointHook) if it loads, else the newest (by epoch or iteration)
    ``epoch_N.pth`` / ``iter_N.pth`` that loads, in its directory or in ``work_dir``, with a
    warning for each broken one passed over. None where there is no checkpoint; a
    :class:`ToolError` naming each one where none loads. "Loads" is checked without unpickling:
    the file is a complete checkpoint of allowed objects (``checkpoint_file_problem``)."""
    candidates = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as file:
            candidates.append(file.read().strip())
    folders = dict.fromkeys([osp.dirname(path) for path in candidates] + [work_dir])
    numbered = [osp.join(folder, name) for folder in folders if osp.isdir(folder)
                for name in os.listdir(folder) if _NUMBERED_CHECKPOINT.fullmatch(name)]
    numbered.sort(key=lambda path: int(_NUMBERED_CHECKPOINT.fullmatch(osp.basename(path))[1]),
                  reverse=True)
    candidates += [path for path in numbered if path not in candidates]
    broken = []
    for checkpoint in candidates:
        problem = checkpoint_file_problem(checkpoint)
        if problem is None:
            if broken:
                _log_once(f'--resume: passed over {len(broken)} checkpoint(s) that do not load '
                          f'and resume from {checkpoint} instead, the newest that does:\n  '
                          + '\n  '.join(broken), logging.WARNING)
            return checkpoint
        broken.append(str(problem))
    if broken:
        raise ToolError(f'--resume: no checkpoint in {work_dir} loads:\n  ' + '\n  '.join(broken)
                        + '\nRemove them to train from scratch, or resume from a copy with '
                        '--resume PATH.')
    return None


def enable_visualization(cfg: Config, show_dir: str) -> None:
    """``--show-dir``: turn on the toolbox's visualization hook, drawing every test image into
    ``show_dir`` (mmseg's visualizer writes them under ``show_dir/vis_data/vis_image``)."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ToolError('--show-dir needs a visualization hook in default_hooks, e.g. '
                        'default_hooks.visualization=dict(type="DetVisualizationHook") for mmdet.')
    # Absolute, because mmdet and mmpose put relative paths under work_dir/<timestamp>.
    show_dir = osp.abspath(show_dir)
    toolbox = cfg.default_scope
    if toolbox == 'mmdet':
        hook.draw = True
        hook.test_out_dir = show_dir
    elif toolbox == 'mmseg':
        hook.draw = True
        hook.setdefault('interval', 1)  # the hook's default draws only every 50th image
        cfg.visualizer.save_dir = show_dir
    else:  # mmpose
        hook.enable = True
        hook.setdefault('interval', 1)
        hook.out_dir = show_dir


def add_prediction_dump(cfg: Config, out: str) -> None:
    """``--out``: keep the predictions, as each toolbox's ``tools/test.py`` does: mmdet and mmpose
    dump them to a pickle file, mmseg writes prediction images into a directory."""
    toolbox = cfg.default_scope
    if toolbox == 'mmseg':
        if not isinstance(cfg.test_evaluator, dict):
            raise ToolError('--out for mmseg configures the test metric (output_dir, '
                            'keep_results); it needs test_evaluator to be a single metric dict.')
        cfg.test_evaluator.output_dir = out
        cfg.test_evaluator.keep_results = True
        return
    if not out.endswith(('.pkl', '.pickle')):
        raise ToolError(f'--out for {toolbox} is a pickle file to dump predictions into; '
                        f'it must end with .pkl or .pickle, got {out!r}.')
    dump = dict(type='DumpDetResults' if toolbox == 'mmdet' else 'DumpResults', out_file_path=out)
    evaluator = cfg.test_evaluator
    if isinstance(evaluator, dict) and 'metrics' in evaluator:  # an Evaluator config
        evaluator.metrics = [*_as_list(evaluator.metrics), dump]
    else:
        cfg.test_evaluator = [*_as_list(evaluator), dump]


def setup_cpu_distributed(cfg: Config) -> None:
    """Prepare a distributed run on a machine without CUDA (no-op otherwise).

    mmengine assumes GPUs in distributed runs: ``init_dist`` calls ``torch.cuda.set_device`` and
    ``Runner.wrap_model`` gives DDP ``device_ids=[LOCAL_RANK]``, which DDP rejects for CPU modules.
    So the process group is initialised here with gloo (mmengine then skips its own
    initialisation), DDP gets ``device_ids=None``, and synchronised batch norm, which runs on GPUs
    only, becomes per-process ``BN`` (with a warning: statistics are no longer shared by ranks).
    """
    if cfg.launcher == 'none' or torch.cuda.is_available():
        return
    if cfg.launcher != 'pytorch':
        raise ToolError(f'--launcher {cfg.launcher} initialises CUDA devices, and CUDA is not '
                        'available here. For distributed runs on CPU use --launcher pytorch, '
                        'e.g. through tools/dist_train.sh / tools/dist_test.sh (torchrun).')
    if not torch.distributed.is_initialized():
        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
        kwargs = {} if timeout is None else dict(timeout=datetime.timedelta(seconds=timeout))
        torch.distributed.init_process_group(backend='gloo', **kwargs)
        _log_once(f'CUDA is not available: initialised torch.distributed with the gloo backend '
                  f'({torch.distributed.get_world_size()} processes).')

    wrapper = cfg.get('model_wrapper_cfg') or dict(
        # What Runner.wrap_model builds when model_wrapper_cfg is None.
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper_type = wrapper.get('type', 'MMDistributedDataParallel')
    if isinstance(wrapper_type, str):
        wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
    if isinstance(wrapper_type, type) and issubclass(wrapper_type, DistributedDataParallel):
        wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper

    replaced = _replace_sync_bn(cfg.model)
    if cfg.get('sync_bn') is not None:  # Runner.wrap_model would convert BN to SyncBN
        cfg.sync_bn = None
        replaced += 1
    if replaced:
        _log_once('Synchronised batch norm needs GPUs: using per-process BN instead in this CPU '
                  'distributed run (statistics are computed on each process\'s batch only).',
                  logging.WARNING)


def finish_distributed() -> None:
    """End a successful distributed run: destroy the process group, flush, and exit with status 0
    without interpreter teardown (no-op in a single-process run).

    torch's C++ threads of a distributed run (gloo's among them) can still be joinable when the
    interpreter finalises, and the process then aborts (``terminate called without an active
    exception``, SIGABRT) after the run has finished and saved everything; torchrun reports that
    as a failure. Destroying the process group first was not enough (it still happened in 1 of 3
    CPU runs of the 2-process test here), so the process leaves with ``os._exit`` once logs and streams are
    flushed: all that teardown would do is free memory and join those threads.
    """
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return
    torch.distributed.destroy_process_group()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def check_data_roots(cfg: Config, loaders: tuple[str, ...]) -> None:
    """Stop before building anything when a dataset root is missing, saying how to prepare it (the
    toolboxes' own errors name a file deep inside the dataset and come after model building)."""
    for name in loaders:
        dataset = (cfg.get(name) or {}).get('dataset')
        while isinstance(dataset, dict) and isinstance(dataset.get('dataset'), dict):
            dataset = dataset['dataset']  # RepeatDataset, ClassBalancedDataset, ...
        data_root = dataset.get('data_root') if isinstance(dataset, dict) else None
        if data_root and '://' not in data_root and not osp.isdir(data_root):
            raise ToolError(
                f'{name}: the dataset root {data_root!r} does not exist (relative to '
                f'{os.getcwd()}). Prepare the dataset as described in README.md, "Dataset '
                f'preparation", or write the small synthetic look-alikes with '
                f'`python tools/misc/generate_demo_data.py` (into data/demo/) and set data_root '
                f'accordingly, e.g. --cfg-options {name}.dataset.data_root=data/demo/...')


def build_runner(cfg: Config) -> Runner:
    """The config's custom runner if it names one (``runner_type``), else mmengine's Runner."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def build_toolbox_model(config: str) -> tuple[torch.nn.Module, Config, int]:
    """The model of an mmdet, mmseg or mmpose config for one process, outside a Runner (the
    benchmark, the ONNX export): built in the config's ``default_scope``, with SyncBN as BN, with
    the weights it is built with (``init_cfg`` checkpoints are not loaded). Returns the model, the
    config and how many SyncBN layers became BN; a ``ValueError`` names a config of another
    scope."""
    from mmengine.registry import MODELS, init_default_scope
    cfg = Config.fromfile(config)
    scope = cfg.get('default_scope')
    if scope not in TOOLBOXES:
        raise ValueError(f'{config}: default_scope is {scope!r}; configs of '
                         f'{", ".join(TOOLBOXES)} only')
    init_default_scope(scope)
    replaced = _replace_sync_bn(cfg.model)
    return MODELS.build(cfg.model), cfg, replaced


def _replace_sync_bn(node) -> int:
    """Set ``type='BN'`` in every SyncBN config dict below ``node``; returns how many."""
    count = 0
    if isinstance(node, dict):
        if node.get('type') in SYNC_BN_TYPES:
            node['type'] = 'BN'
            count += 1
        children = node.values()
    elif isinstance(node, (list, tuple)):
        children = node
    else:
        return 0
    return count + sum(_replace_sync_bn(child) for child in children)


def _log_once(message: str, level: int = logging.INFO) -> None:
    """Log from rank 0 only (before the Runner exists, the current logger prints on every rank)."""
    if get_rank() == 0:
        print_log(message, logger='current', level=level)


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def configure_bad_sample_skipping(cfg: Config, loaders: tuple[str, ...], skip: bool) -> bool:
    """``--skip-bad-samples`` (``skip``): set ``skip_bad_samples=True`` in the datasets of
    ``loaders`` (through RepeatDataset and other wrappers), which must be mmvitx's checked
    datasets. Where any of them skips (the flag, or the key set in the config), add the
    ``BadSampleHook`` that reports the counts. Returns whether any dataset skips."""
    from mmvitx.datasets import CheckedDatasetMixin

    registry = importlib.import_module(f'{cfg.default_scope}.registry').DATASETS
    skipping = False
    for name in loaders:
        loader = cfg.get(name)
        if not loader:
            continue
        for dataset in innermost_dataset_configs(loader.dataset):
            if skip:
                dataset_type = dataset.get('type')
                dataset_class = (registry.get(dataset_type) if isinstance(dataset_type, str)
                                 else dataset_type)
                if not (isinstance(dataset_class, type)
                        and issubclass(dataset_class, CheckedDatasetMixin)):
                    raise ToolError(
                        f'--skip-bad-samples needs mmvitx\'s checked datasets (CheckedCocoDataset, '
                        f'CheckedCocoPoseDataset, CheckedADE20KDataset, CheckedCityscapesDataset),'
                        f' but the dataset of {name} is {dataset_type!r}.')
                dataset.skip_bad_samples = True
                if name != 'train_dataloader':
                    # leave bad samples out rather than draw others (mmseg's val sets do not
                    # declare test_mode)
                    dataset.test_mode = True
            skipping = skipping or bool(dataset.get('skip_bad_samples'))
    hooks = cfg.get('custom_hooks') or []
    if skipping and not any(hook.get('type') == 'BadSampleHook' for hook in hooks):
        cfg.custom_hooks = [*hooks, dict(type='BadSampleHook')]
    return skipping


def innermost_dataset_configs(dataset) -> list:
    """The dataset configs below the wrappers (RepeatDataset ``dataset``, ConcatDataset
    ``datasets``)."""
    if isinstance(dataset.get('datasets'), list):
        return [inner for wrapped in dataset.datasets
                for inner in innermost_dataset_configs(wrapped)]
    if isinstance(dataset.get('dataset'), dict):
        return innermost_dataset_configs(dataset.dataset)
    return [dataset]


def data_fault_line(error: Exception) -> str:
    """The one-line message of a ``DataFaultError``, also when a dataloader worker raised it (the
    main process then gets the worker's traceback as the message, the line last)."""
    return str(error).strip().splitlines()[-1].split('DataFaultError: ', 1)[-1]
