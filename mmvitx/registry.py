"""mmvitx's registry node.

Every mmvitx model is registered twice: in MMEngine's root ``MODELS`` (so an unqualified
``type='FasterViT'`` resolves from any toolbox scope that lacks a class of that name) and in this
child registry of scope ``mmvitx`` (so ``type='mmvitx.HRFormer'`` picks mmvitx's class even inside
mmpose, which has an ``HRFormer`` of its own).
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMENGINE_MODELS, scope='mmvitx', locations=['mmvitx.models'])


def register_model(cls):
    """Class decorator registering ``cls`` under its name in both registries."""
    MMENGINE_MODELS.register_module(module=cls)
    MODELS.register_module(module=cls)
    return cls
