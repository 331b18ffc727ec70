"""What every mmvitx backbone shares: arch presets (mmpretrain's ``arch_zoo`` habit) and argument
checks, mmdet/mmpretrain-style freezing, ``norm_eval`` and pretrained loading through the family's
checkpoint converter."""
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import constant_init, trunc_normal_, trunc_normal_init
from torch.nn.modules.batchnorm import _BatchNorm

from ..pretrained import load_pretrained


def preset_name(family: str, arch: str, arch_zoo: dict, arch_aliases: dict) -> str:
    """The key in ``arch_zoo`` of a preset name or alias (any case); a ``KeyError`` that lists
    the valid ones otherwise."""
    key = arch_aliases.get(arch.lower(), arch.lower())
    if key not in arch_zoo:
        raise KeyError(f'Unknown {family} arch {arch!r}; valid: {list(arch_zoo)} '
                       f'(or {sorted(arch_aliases)}), or a dict of hyperparameters')
    return key


def resolve_arch(family: str, arch: str | dict, arch_zoo: dict, arch_aliases: dict,
                 required: set, arch_defaults: dict) -> dict:
    """A preset name (or alias, any case) or a dict of hyperparameters -> the full arch dict.

    A dict must hold the ``required`` keys and may override ``arch_defaults``; anything else is an
    error that lists what is valid.
    """
    if isinstance(arch, str):
        arch = arch_zoo[preset_name(family, arch, arch_zoo, arch_aliases)]
    if not isinstance(arch, dict) or not required <= set(arch):
        raise ValueError(f'A custom {family} arch needs the keys {sorted(required)}, got {arch}')
    unknown = set(arch) - required - set(arch_defaults)
    if unknown:
        raise ValueError(f'Unknown {family} arch keys {sorted(unknown)}; valid: '
                         f'{sorted(required | set(arch_defaults))}')
    return {**arch_defaults, **arch}


def init_transformer_weights(model: nn.Module, tables=()):
    """ViT-style initialisation: Linear weights truncated-normal (std 0.02) with zero biases,
    LayerNorm and BatchNorm at weight 1 / bias 0, and ``tables`` (class tokens, position
    embeddings or tables; None entries skipped) truncated-normal (std 0.02)."""
    for module in model.modules():
        if isinstance(module, nn.Linear):
            trunc_normal_init(module, std=0.02, bias=0.)
        elif isinstance(module, (nn.LayerNorm, _BatchNorm)):
            constant_init(module, val=1., bias=0.)
    for table in tables:
        if table is not None:
            trunc_normal_(table, std=0.02)


def check_outputs_and_freezing(out_indices, frozen_stages: int, unit: str = 'stage',
                               num: int = 4, num_stages: int | None = None) -> tuple[int, ...]:
    """``out_indices`` as a tuple of indices in 0..num-1 (``unit``: what they index), after
    checking it and ``frozen_stages`` (-1..num_stages, by default -1..num)."""
    out_indices = tuple(out_indices)
    if not out_indices or any(not 0 <= i < num for i in out_indices):
        raise ValueError(f'out_indices must be {unit} indices in 0..{num - 1}, got {out_indices}')
    num_stages = num if num_stages is None else num_stages
    if not -1 <= frozen_stages <= num_stages:
        raise ValueError(f'frozen_stages must be in -1..{num_stages}, got {frozen_stages}')
    return out_indices


class DenseBackbone(BaseModule):
    """Base of the backbones. Subclasses set ``pretrained_family`` (the converter to load
    ``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` through), ``frozen_stages`` and
    ``norm_eval``, implement ``_init_layers`` (the paper's initialisation) and ``_frozen_modules``
    (what ``frozen_stages`` freezes: modules, or backbone-level parameters such as a class token),
    and call ``_freeze_stages()`` at the end of ``__init__``."""

    pretrained_family: str

    def _init_layers(self):
        raise NotImplementedError

    def _frozen_modules(self):
        raise NotImplementedError

    def init_weights(self):
        self._init_layers()
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            load_pretrained(self, self.init_cfg['checkpoint'], self.pretrained_family)
        elif self.init_cfg is not None:
            super().init_weights()
        self._is_init = True

    def _freeze_stages(self):
        for item in self._frozen_modules():
            if isinstance(item, nn.Parameter):  # a backbone-level one, e.g. a class token
                item.requires_grad = False
                continue
            item.eval()
            for param in item.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
