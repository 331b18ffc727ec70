"""Loading converted pretrained weights into mmvitx backbones.

Each backbone family registers a converter next to its model (``@register_converter('hrformer')``)
that maps the official release layout (and other known layouts) to mmvitx's parameter names; it is
idempotent on checkpoints already in mmvitx's layout. ``tools/convert_checkpoint.py`` exposes the
converters; backbones load local files only (nothing is downloaded).
"""
import os.path as osp
import re
from collections import OrderedDict
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


def load_pretrained(model: torch.nn.Module, checkpoint: str, family: str) -> None:
    """Load a local pretrained checkpoint into ``model`` through the family's converter.

    Keys missing from the checkpoint or unknown to the model are reported in the log, not fatal
    (a classification checkpoint lacks dense-prediction norms, for instance); a shape mismatch is
    an error, since it means the checkpoint is of another variant.
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
    own = model.state_dict()
    mismatched = [f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
                  for k, v in state_dict.items() if k in own and v.shape != own[k].shape]
    if mismatched:
        raise ValueError(f'{checkpoint!r} does not fit {type(model).__name__} '
                         f'(is it another variant?):\n  ' + '\n  '.join(mismatched[:10]))
    result = model.load_state_dict(state_dict, strict=False)
    print_log(f'Loaded pretrained weights from {checkpoint}', logger='current')
    if result.missing_keys:
        print_log(f'Weights not in the checkpoint (kept at their initialisation): '
                  f'{result.missing_keys}', logger='current')
    if result.unexpected_keys:
        print_log(f'Checkpoint weights not used by the model: {result.unexpected_keys}',
                  logger='current')
