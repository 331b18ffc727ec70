"""What every mmvitx backbone shares: mmdet/mmpretrain-style freezing, ``norm_eval`` and
pretrained loading through the family's checkpoint converter."""
import torch.nn as nn
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from ..pretrained import load_pretrained


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
