"""Layer-wise learning-rate decay (``LayerwiseLRDecayOptimWrapperConstructor``): the rates ViTDet's
``get_vit_lr_decay_rate`` gives (``rate ** (num_layers + 1 - layer)``: embeddings layer 0, block
k layer k + 1, everything else the full rate), combined with ``custom_keys``, built by name from
every toolbox's registry, and a clear error for a backbone that does not name its layers."""
import importlib

import pytest
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmvitx.engine import LayerwiseLRDecayOptimWrapperConstructor
from mmvitx.models.backbones import HRFormer, ViT
from mmvitx.models.necks import SimpleFeaturePyramid

LR = 1e-4
RATE = 0.7


class Detector(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        self.neck = SimpleFeaturePyramid(backbone.num_features[-1], 16)


def build(model, **paramwise_cfg):
    constructor = LayerwiseLRDecayOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=LR, weight_decay=0.1)),
        dict(layer_decay_rate=RATE, **paramwise_cfg))
    optim_wrapper = constructor(model)
    assert isinstance(optim_wrapper, OptimWrapper)
    groups = {}
    names = {id(p): n for n, p in model.named_parameters()}
    for group in optim_wrapper.optimizer.param_groups:
        for param in group['params']:
            groups[names[id(param)]] = group
    return groups


def test_rates_follow_the_layers():
    model = Detector(ViT(arch='ti', out_indices=(11, )))
    groups = build(model, custom_keys={'pos_embed': dict(decay_mult=0.)})
    depth = 12

    def lr(name):
        return pytest.approx(groups[name]['lr'], rel=1e-12)

    assert lr('backbone.patch_embed.proj.weight') == LR * RATE**(depth + 1)
    assert lr('backbone.pos_embed') == LR * RATE**(depth + 1)
    assert groups['backbone.pos_embed']['weight_decay'] == 0  # custom_keys still apply
    assert lr('backbone.blocks.0.attn.qkv.weight') == LR * RATE**depth
    assert lr('backbone.blocks.11.mlp.fc2.weight') == LR * RATE
    for name in groups:
        if name.startswith('neck.'):
            assert groups[name]['lr'] == LR
    assert len(groups) == sum(1 for _ in model.parameters())


def test_backbone_without_layers_is_named():
    with pytest.raises(TypeError, match='HRFormer does not name its layers'):
        build(Detector(HRFormer(arch='t')))


def test_rate_is_required():
    with pytest.raises(ValueError, match='layer_decay_rate'):
        LayerwiseLRDecayOptimWrapperConstructor(dict(type='OptimWrapper', optimizer=dict(type='SGD',
                                                                                    lr=LR)))


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg', 'mmpose'])
def test_every_toolbox_builds_it(scope):
    registry = importlib.import_module(f'{scope}.registry').OPTIM_WRAPPER_CONSTRUCTORS
    constructor = registry.build(dict(
        type='LayerwiseLRDecayOptimWrapperConstructor',
        optim_wrapper_cfg=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=LR)),
        paramwise_cfg=dict(layer_decay_rate=RATE)))
    assert isinstance(constructor, LayerwiseLRDecayOptimWrapperConstructor)
