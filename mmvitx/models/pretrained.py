"""Loading converted pretrained weights into mmvitx backbones.

Each backbone family registers a converter next to its model (``@register_converter('hrformer')``)
that maps the official release layout (and other known layouts) to mmvitx's parameter names; it is
idempotent on checkpoints already in mmvitx's layout. ``tools/convert_checkpoint.py`` exposes the
converters; backbones load local files only (nothing is downloaded).

Converted weights must fit: :func:`compare_state_dict` finds the unexpected, missing and
differently shaped weights under the family's contract (``keys_missing_from_release``,
``pretrain_size_keys``), against a built backbone (:func:`load_pretrained`) or against the
family's presets built on the meta device (:func:`preset_fits`, for the converter).
"""
import functools
import logging
import os.path as osp
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

StateDict = dict[str, torch.Tensor]
CONVERTERS: dict[str, Callable[[StateDict], StateDict]] = {}
# What a family's converter takes, for the missing-checkpoint message.
CONVERTER_SOURCES: dict[str, str] = {}


def register_converter(family: str, source: str = 'the official checkpoint'):
    """Register ``fn(state_dict) -> state_dict`` as the checkpoint converter of ``family``;
    ``source`` names what it converts."""

    def decorator(fn):
        CONVERTERS[family] = fn
        CONVERTER_SOURCES[family] = source
        return fn

    return decorator


def get_converter(family: str) -> Callable[[StateDict], StateDict]:
    if family not in CONVERTERS:
        raise KeyError(f'No checkpoint converter for {family!r}; available: {sorted(CONVERTERS)}')
    return CONVERTERS[family]


def extract_state_dict(checkpoint) -> StateDict:
    """The weights of a loaded checkpoint file, whatever wrapper the release used.

    Handles ``state_dict`` (mmengine, FasterViT), ``model`` (HRFormer cls), ``model_state`` (MViT),
    a bare state dict, and the ``module.`` (DDP) and ``backbone.`` (whole detector/segmentor/pose
    model) prefixes.
    """
    for key in ('state_dict', 'model', 'model_state'):
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
            break
    if not isinstance(checkpoint, dict):
        raise TypeError(f'Expected a state dict in the checkpoint, got {type(checkpoint).__name__}')
    state_dict = OrderedDict((re.sub(r'^module\.', '', k), v) for k, v in checkpoint.items())
    if any(k.startswith('backbone.') for k in state_dict):
        state_dict = OrderedDict((k[len('backbone.'):], v) for k, v in state_dict.items()
                                 if k.startswith('backbone.'))
    return state_dict


@dataclass
class StateDictFit:
    """How a converted state dict fits a backbone's parameters and buffers (keys and shapes)."""
    unexpected: list[str]  # in the checkpoint, not in the backbone
    missing: list[str]  # in the backbone, not in the checkpoint, nor in keys_missing_from_release
    missing_from_release: list[str]  # missing, as every release checkpoint is (documented)
    mismatched: list[tuple[str, tuple, tuple]]  # (key, checkpoint shape, backbone shape)

    @property
    def fits(self) -> bool:
        return not (self.unexpected or self.missing or self.mismatched)

    @property
    def num_problems(self) -> int:
        return len(self.unexpected) + len(self.missing) + len(self.mismatched)


def key_matcher(patterns) -> re.Pattern:
    """One regular expression matching a weight name that any of ``patterns`` (the contract's
    ``keys_missing_from_release``, ``pretrain_size_keys``, ``keys_not_built()``) matches at its
    start; with no patterns, one that matches nothing."""
    return re.compile('|'.join(patterns) or '(?!)')


def compare_state_dict(state_dict: StateDict, expected: dict[str, torch.Size],
                       backbone_cls) -> StateDictFit:
    """Compare ``state_dict`` with ``expected``, the shapes of a backbone's state dict, under
    the contract of ``backbone_cls``. BatchNorm's ``num_batches_tracked`` may be absent:
    BatchNorm fills it in when loading."""
    release = key_matcher(backbone_cls.keys_missing_from_release)
    absent = [k for k in expected if k not in state_dict and not k.endswith('num_batches_tracked')]
    return StateDictFit(
        unexpected=[k for k in state_dict if k not in expected],
        missing=[k for k in absent if not release.match(k)],
        missing_from_release=[k for k in absent if release.match(k)],
        mismatched=[(k, tuple(v.shape), tuple(expected[k])) for k, v in state_dict.items()
                    if k in expected and v.shape != expected[k]])


def pretrain_size_mismatch(fit: StateDictFit, backbone_cls) -> bool:
    """Whether the only difference of ``fit`` is in weights whose shapes follow the pretraining
    input size (the family's ``pretrain_size_keys``)."""
    pattern = key_matcher(backbone_cls.pretrain_size_keys)
    return bool(fit.mismatched) and not (fit.unexpected or fit.missing) and all(
        pattern.match(key) for key, _, _ in fit.mismatched)


def pretrain_size_advice(state_dict: StateDict, backbone_cls) -> str:
    """What to set so that weights of another pretraining input size fit."""
    size = backbone_cls.pretrain_img_size_of(state_dict)
    if size is None:
        return ('Set the backbone\'s pretrain_img_size to the input size the checkpoint was '
                'pretrained at')
    return f'Set the backbone\'s pretrain_img_size={size} (the size these shapes imply)'


def describe_fit(fit: StateDictFit, limit: int = 10) -> str:
    """The problems of ``fit``, one line per kind, with up to ``limit`` keys each."""

    def listed(items):
        more = f' ... and {len(items) - limit} more' if len(items) > limit else ''
        return ', '.join(items[:limit]) + more

    lines = []
    if fit.unexpected:
        lines.append(f'{len(fit.unexpected)} unexpected (not in the backbone): '
                     f'{listed(fit.unexpected)}')
    if fit.missing:
        lines.append(f'{len(fit.missing)} missing: {listed(fit.missing)}')
    if fit.mismatched:
        lines.append(f'{len(fit.mismatched)} of another shape: ' + listed(
            [f'{key} {shape} (backbone {own})' for key, shape, own in fit.mismatched]))
    return '\n  '.join(lines)


def preset_fits(backbone_cls, state_dict: StateDict) -> list[tuple[str, StateDictFit]]:
    """How ``state_dict`` fits each preset of ``backbone_cls`` (and each of its ``variants``),
    best first, as (preset description, fit). Weights of layers a preset leaves out with its
    default options (its ``keys_not_built()``, e.g. the plain ViTs' final norm) are not
    unexpected: loading ignores them."""
    fits = []
    for label, (shapes, not_built) in _preset_layouts(backbone_cls).items():
        fit = compare_state_dict(state_dict, shapes, backbone_cls)
        ignored = key_matcher(not_built)
        fit.unexpected = [key for key in fit.unexpected if not ignored.match(key)]
        fits.append((label, fit))
    return sorted(fits, key=lambda item: item[1].num_problems)


@functools.cache
def preset_shapes(backbone_cls) -> dict[str, dict[str, torch.Size]]:
    """The state-dict shapes of every preset and variant, built on the meta device (no memory,
    no initialisation cost)."""
    return {label: shapes for label, (shapes, _) in _preset_layouts(backbone_cls).items()}


@functools.cache
def _preset_layouts(backbone_cls) -> dict[str, tuple[dict[str, torch.Size], tuple[str, ...]]]:
    """Every preset and variant, built on the meta device: its state-dict shapes and its
    ``keys_not_built()``."""
    layouts = {}
    for arch in backbone_cls.arch_zoo:
        for options in ({}, *backbone_cls.variants):
            try:
                with torch.device('meta'):
                    model = backbone_cls(arch=arch, **options)
            except ValueError:  # a variant the preset does not allow (MViT v1 windows)
                continue
            label = ' '.join([repr(arch), *(f'{k}={v!r}' for k, v in options.items())])
            layouts[label] = ({k: v.shape for k, v in model.state_dict().items()},
                              tuple(model.keys_not_built()))
    return layouts


def load_pretrained(model: torch.nn.Module, checkpoint: str, family: str,
                    strict: bool = True) -> None:
    """Load a local pretrained checkpoint into ``model`` (a ``DenseBackbone``) through the
    family's converter.

    With ``strict`` (the default) the converted weights must fit the backbone exactly: weights
    unknown to the backbone, weights of another shape and backbone weights missing from the
    checkpoint are an error naming them; only the family's ``keys_missing_from_release`` (layers
    mmvitx adds, such as the dense-prediction output norms) may be missing, and are logged. Where
    only the weights that follow the pretraining input size differ, the error says which
    ``pretrain_img_size`` to set. ``strict=False`` (``init_cfg=dict(type='Pretrained', ...,
    strict=False)``) loads the weights that fit and logs at WARNING what was and was not loaded.
    """
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'Pretrained weights for {type(model).__name__} not found at {checkpoint!r}. Convert '
            f'{CONVERTER_SOURCES.get(family, "the official checkpoint")} into this file first:\n'
            f'    python tools/convert_checkpoint.py {family} SOURCE_CHECKPOINT {checkpoint}\n'
            f'(README, "Pretrained weights"), or set the backbone\'s init_cfg=None to train from '
            f'scratch.')
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state_dict = get_converter(family)(extract_state_dict(loaded))
    backbone_cls, name = type(model), type(model).__name__
    own = {key: value.shape for key, value in model.state_dict().items()}
    fit = compare_state_dict(state_dict, own, backbone_cls)
    not_built = key_matcher(model.keys_not_built())
    unused = [key for key in fit.unexpected if not_built.match(key)]
    fit.unexpected = [key for key in fit.unexpected if not not_built.match(key)]
    if not fit.fits and strict:
        if pretrain_size_mismatch(fit, backbone_cls):
            problem = (f'{checkpoint} was pretrained at another input size than {name} is built '
                       f'for: the weights that follow the pretraining input size have other '
                       f'shapes. {pretrain_size_advice(state_dict, backbone_cls)}.')
        else:
            problem = (f'{checkpoint} does not fit {name} (is it another variant, or another '
                       f'family\'s checkpoint? `python tools/convert_checkpoint.py {family} '
                       f'{checkpoint} OUT` names the preset or family it fits).')
        raise ValueError(
            f'{problem}\n  {describe_fit(fit)}\nTo load only the weights that fit, set '
            f'init_cfg=dict(type=\'Pretrained\', checkpoint=..., strict=False).')
    mismatched = {key for key, _, _ in fit.mismatched}
    model.load_state_dict({k: v for k, v in state_dict.items() if k not in mismatched},
                          strict=False)
    if fit.fits:
        print_log(f'Loaded pretrained weights from {checkpoint}', logger='current')
    else:
        loaded_keys = len(state_dict) - len(fit.unexpected) - len(mismatched)
        print_log(f'Loaded {loaded_keys} of the {len(own)} weights of {name} from {checkpoint} '
                  f'(strict=False). Not loaded (the missing ones stay at their initialisation):'
                  f'\n  {describe_fit(fit)}', logger='current', level=logging.WARNING)
    if unused:
        print_log(f'Checkpoint weights of layers {name} does not build for out_indices='
                  f'{model.out_indices} (not loaded): {unused}', logger='current')
    if fit.missing_from_release:
        print_log(f'Weights that release checkpoints do not have (kept at their '
                  f'initialisation): {fit.missing_from_release}', logger='current')
