"""The configs under ``configs/`` (HRFormer, FasterViT, MViT and PSViT): they load, build mmvitx's
backbone with the right arch and channels, carry the published recipes (backbones.md §2.9, §4.5,
§5.5/§5.6, or the documented choices where none is published), exempt from weight decay exactly
the parameters they say, and one train iteration plus one validation pass of every config family
runs through mmengine's Runner on the demo data (``demo_data`` fixture, see
``mmvitx/datasets/demo.py``).

The run tests use the smallest real configs (HRFormer-S, FasterViT-0, MViTv2-T; PSViT-2D-T for
detection and UPerNet, PSViT-2D-S, the only size of those, for OCR and pose) with only what a
CPU test needs changed: BN instead of SyncBN, no pretrained weights, small inputs, one iteration, a
few images, no workers and no checkpoints.
"""
import copy
import functools
import math
import re
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner
from torch.nn.modules.batchnorm import _BatchNorm

from mmvitx.models.backbones.mvit import PoolingAttention
from mmvitx.models.backbones.psvit import PSViT
from mmvitx.models.layers import ContinuousPositionBias, GridPositionEmbedding, LayerScale
from spec_params import (MVIT_STAGE_CHANNELS, PSVIT_BACKBONE_PARAMS, PSVIT_LEVEL_CHANNELS,
                         fastervit_backbone_params, fastervit_stage_channels, mvit_backbone_params,
                         psvit_backbone_params, simplebaseline_head_params)

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / 'configs'
BASE_CONFIGS = sorted((CONFIG_DIR / '_base_').rglob('*.py'))
CONFIGS = sorted(p for p in CONFIG_DIR.rglob('*.py')
                 if '_base_' not in p.relative_to(CONFIG_DIR).parts)
# Per backbone family (the folder under configs/): config names {family}-{size}_{method}_{dataset}
# [-{input}], the registered backbone, and the output channels of the four stages or branches.
# The mvit folder holds two model families, named mvitv2-{t,s,b,l,h} and mvitv1-{b16,b24} (the
# `model` group, which also names the checkpoint): sizes are unique across the two. PSViT configs
# are named psvit-2d-{t,s} (the `model` group: the pooling design, which names the checkpoint too;
# all configs use the 2-D design) and have four output levels (level 0: stage 1 upsampled).
NAME_RE = {
    'hrformer': re.compile(
        r'^hrformer-(?P<size>[tsb])_(?P<method>ocr|upernet|cascade-mask-rcnn|heatmap)_'
        r'(?P<dataset>cityscapes|ade20k|coco)(?:-(?P<suffix>[0-9a-z-]+))?$'),
    'fastervit': re.compile(
        r'^fastervit-(?P<size>[0-6])_(?P<method>ocr|upernet|cascade-mask-rcnn|simplebaseline)_'
        r'(?P<dataset>cityscapes|ade20k|coco)(?:-(?P<suffix>[0-9a-z-]+))?$'),
    'mvit': re.compile(
        r'^(?P<model>mvitv2(?=-[tsblh]_)|mvitv1(?=-b(?:16|24)_))-(?P<size>[tsblh]|b16|b24)_'
        r'(?P<method>ocr|upernet|cascade-mask-rcnn|simplebaseline)_'
        r'(?P<dataset>cityscapes|ade20k|coco)(?:-(?P<suffix>[0-9a-z-]+))?$'),
    'psvit': re.compile(
        r'^(?P<model>psvit-2d)-(?P<size>[ts])_'
        r'(?P<method>ocr|upernet|cascade-mask-rcnn|simplebaseline)_'
        r'(?P<dataset>cityscapes|ade20k|coco)(?:-(?P<suffix>[0-9a-z-]+))?$'),
}
BACKBONE_TYPES = {'hrformer': 'mmvitx.HRFormer', 'fastervit': 'mmvitx.FasterViT',
                  'mvit': 'mmvitx.MViT', 'psvit': 'mmvitx.PSViT'}
# Backbones without BatchNorm (no norm_cfg): the necks and heads keep the toolboxes' norms.
NO_BN_FAMILIES = ('mvit', 'psvit')
# The backbone's arch for a config size, where the two differ (elsewhere arch == size).
ARCHS = {'mvit': {'b16': 'v1-b-16', 'b24': 'v1-b-24'}}
CHANNELS = {
    'hrformer': {'t': (18, 36, 72, 144), 's': (32, 64, 128, 256), 'b': (78, 156, 312, 624)},
    'fastervit': {'0': (64, 128, 256, 512), '2': (96, 192, 384, 768),
                  '3': (128, 256, 512, 1024), '4': (196, 392, 784, 1568)},
    # v1 widens in the MLP of the block before each transition: its stages end at 2C, 4C, 8C, 8C
    'mvit': {size: MVIT_STAGE_CHANNELS[ARCHS['mvit'].get(size, size)]
             for size in ('t', 's', 'b', 'b16')},
    'psvit': PSVIT_LEVEL_CHANNELS,
}
POSE_METHODS = ('heatmap', 'simplebaseline')
# Exact counts. HRFormer: derived with the spec's paramcount.py from the official hyperparameters.
# FasterViT: the spec's official counts without the ImageNet classifier, plus a LayerNorm per
# output (tests/spec_params.py); pose: the stride-32 output only, plus mmpose's SimpleBaseline
# HeatmapHead. MViT: paramcount.py's counts without the classifier, whose final LayerNorm is the
# stage-4 output norm, plus a LayerNorm per further output (tests/spec_params.py). PSViT:
# mmvitx's own instantiations (no published figure), counted by formula in tests/spec_params.py.
SEG_BACKBONE_PARAMS = {
    'hrformer': {'t': 2_572_388, 's': 7_891_050, 'b': 44_040_666},
    'fastervit': {arch: fastervit_backbone_params(arch) for arch in '0234'},
    'mvit': {size: mvit_backbone_params(ARCHS['mvit'].get(size, size))
             for size in ('t', 's', 'b', 'b16')},
    'psvit': {size: psvit_backbone_params(size) for size in 'ts'},
}
POSE_BACKBONE_AND_HEAD_PARAMS = {
    'hrformer': {'s': 7_746_779, 'b': 43_211_777},
    'fastervit': {arch: fastervit_backbone_params(arch, (3, )) + simplebaseline_head_params(
        fastervit_stage_channels(arch)[3]) for arch in '02'},
    'mvit': {size: mvit_backbone_params(ARCHS['mvit'].get(size, size), (3, ))
             + simplebaseline_head_params(768) for size in ('t', 's', 'b16')},
    'psvit': {size: psvit_backbone_params(size, out_indices=(3, ))
              + simplebaseline_head_params(PSVIT_LEVEL_CHANNELS[size][3]) for size in 'ts'},
}
# Parameters without weight decay besides the normalization layers (custom_keys, decay_mult 0).
NO_DECAY_KEYS = {
    'hrformer': {'relative_position_bias_table': dict(decay_mult=0.)},
    # continuous position bias and positional MLPs of the HAT blocks; layer scales (FasterViT-3+)
    'fastervit': {key: dict(decay_mult=0.) for key in (
        '.cpb.', '.window_pos.', '.ct_pos.', 'ls1.weight', 'ls2.weight')},
    # position terms: absolute embedding and class token (v1), decomposed relative tables (v2)
    'mvit': {key: dict(decay_mult=0.) for key in (
        'pos_embed', 'rel_pos_h', 'rel_pos_w', 'cls_token')},
    # position terms: absolute embedding, class token (1-D design)
    'psvit': {key: dict(decay_mult=0.) for key in ('pos_embed', 'cls_token')},
}
DATA_ROOTS = {
    'cityscapes': 'data/cityscapes/',
    'ade20k': 'data/ade/ADEChallengeData2016',
    'coco': 'data/coco/',
}


@functools.lru_cache(maxsize=None)
def _load_once(path):
    return Config.fromfile(path)


def _load(path):
    """Each config is parsed once per session (resolving ``mmseg::``-style bases is slow: mmengine
    reads every metafile of the package); tests get a private copy."""
    return copy.deepcopy(_load_once(Path(path)))


def _rel(path):
    return str(path.relative_to(CONFIG_DIR))


def _config_path(name):
    families = [family for family, pattern in NAME_RE.items() if pattern.match(name)]
    assert len(families) == 1, f'{name}: no single backbone family folder ({families})'
    return CONFIG_DIR / families[0] / f'{name}.py'


def _parse_name(path):
    """The named groups of the config name, with ``family`` (the folder), ``model`` (the name's
    prefix: the family, or mvitv2/mvitv1) and ``arch`` (the backbone's arch)."""
    family = path.parent.name
    assert family in NAME_RE, f'{_rel(path)}: unknown backbone family folder {family!r}'
    match = NAME_RE[family].match(path.stem)
    assert match, (f'{_rel(path)} does not follow '
                   f'{family}-{{size}}_{{method}}_{{dataset}}[-{{input}}].py')
    name = dict(match.groupdict(), family=family)
    name.setdefault('model', family)
    name['arch'] = ARCHS.get(family, {}).get(name['size'], name['size'])
    return name


def _is_demo(path):
    return (_parse_name(path)['suffix'] or '').endswith('demo')


def _plain(obj):
    """A config value as plain dicts/lists, without the ``_scope_`` keys mmengine adds to
    dicts inherited across packages."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items() if k != '_scope_'}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v) for v in obj)
    return obj


def _build_model(cfg):
    init_default_scope(cfg.default_scope)
    return MODELS.build(cfg.model)


def _num_params(module):
    return sum(p.numel() for p in module.parameters())


def _norm_types(obj):
    """All norm_cfg types anywhere in a (nested) config."""
    found = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == 'norm_cfg' and isinstance(value, dict):
                found.add(value['type'])
            found |= _norm_types(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            found |= _norm_types(value)
    return found


def test_config_inventory():
    names = {p.stem for p in CONFIGS}
    expected = {
        f'hrformer-{size}_{rest}'
        for size in 'sb'
        for rest in ('ocr_cityscapes', 'ocr_ade20k', 'upernet_ade20k', 'cascade-mask-rcnn_coco',
                     'heatmap_coco-256x192', 'heatmap_coco-384x288')
    }
    expected |= {
        f'fastervit-{size}_{rest}'
        for size in '0234'
        for rest in ('cascade-mask-rcnn_coco', 'upernet_ade20k')
    }
    expected |= {
        f'fastervit-{size}_{rest}'
        for size in '02'
        for rest in ('ocr_cityscapes', 'simplebaseline_coco-256x192')
    }
    expected |= {
        f'{model}_{rest}'
        for model in ('mvitv2-t', 'mvitv2-s', 'mvitv2-b', 'mvitv1-b16')
        for rest in ('cascade-mask-rcnn_coco', 'upernet_ade20k', 'ocr_cityscapes',
                     'simplebaseline_coco-256x192')
        if model != 'mvitv2-b' or rest == 'cascade-mask-rcnn_coco'
    }
    expected |= {
        f'psvit-2d-{size}_{rest}'
        for size in 'ts'
        for rest in ('cascade-mask-rcnn_coco', 'upernet_ade20k')
    }
    expected |= {'psvit-2d-s_ocr_cityscapes', 'psvit-2d-s_simplebaseline_coco-256x192'}
    assert expected <= names, f'missing configs: {sorted(expected - names)}'
    assert any(_is_demo(p) for p in CONFIGS), 'no demo config'


@pytest.mark.parametrize('pooling', ['2d', '1d'])
@pytest.mark.parametrize('arch', ['t', 's'])
def test_psvit_param_formula(arch, pooling):
    """The PSViT figures of the tables above (tests/spec_params.py: by formula from the documented
    instantiations, other output sets in tests/test_psvit.py) are the model's."""
    model = PSViT(arch, pooling=pooling)
    assert _num_params(model) == psvit_backbone_params(arch, pooling) == PSVIT_BACKBONE_PARAMS[
        arch, pooling]
    assert model.out_channels == PSVIT_LEVEL_CHANNELS[arch]


@pytest.mark.parametrize('path', BASE_CONFIGS, ids=_rel)
def test_base_config_loads(path):
    cfg = _load(path)
    assert 'model' in cfg or 'optim_wrapper' in cfg


def _fastervit_no_decay(backbone):
    """Names of the FasterViT parameters meant to be exempt from weight decay, found by module type:
    normalization layers (BN, LN, LN2d), layer scales and the position MLPs."""
    exempt = (_BatchNorm, nn.LayerNorm, LayerScale, ContinuousPositionBias, GridPositionEmbedding)
    return {f'backbone.{module_name}.{name}'
            for module_name, module in backbone.named_modules() if isinstance(module, exempt)
            for name, _ in module.named_parameters()}


def _mvit_no_decay(backbone):
    """Names of the MViT parameters meant to be exempt from weight decay, found by module type and
    attribute: LayerNorms, the class token and absolute position embedding (v1) and the relative
    position tables of the attentions (v2)."""
    names = {f'backbone.{module_name}.{name}'
             for module_name, module in backbone.named_modules()
             if isinstance(module, nn.LayerNorm)
             for name, _ in module.named_parameters()}
    position = [backbone.cls_token, backbone.pos_embed] + [
        table for module in backbone.modules() if isinstance(module, PoolingAttention)
        for table in (module.rel_pos_h, module.rel_pos_w)]
    position = {id(p) for p in position if p is not None}
    return names | {f'backbone.{name}' for name, p in backbone.named_parameters()
                    if id(p) in position}


def _psvit_no_decay(backbone):
    """Names of the PSViT parameters meant to be exempt from weight decay, found by module type and
    attribute: LayerNorms (the output LN2d included) and the position terms, the absolute position
    embedding and the class token (1-D design)."""
    names = {f'backbone.{module_name}.{name}'
             for module_name, module in backbone.named_modules()
             if isinstance(module, nn.LayerNorm)
             for name, _ in module.named_parameters()}
    position = {id(p) for p in (backbone.cls_token, backbone.pos_embed) if p is not None}
    return names | {f'backbone.{name}' for name, p in backbone.named_parameters()
                    if id(p) in position}


NO_DECAY_PARAMS = {'fastervit': _fastervit_no_decay, 'mvit': _mvit_no_decay,
                   'psvit': _psvit_no_decay}


def _check_weight_decay(cfg, model, family):
    """The custom no-decay keys select backbone parameters only; for FasterViT, MViT and PSViT,
    exactly the parameters that the base configs name (everything else keeps the base weight
    decay)."""
    init_default_scope(cfg.default_scope)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {id(p): group['weight_decay']
             for group in wrapper.optimizer.param_groups for p in group['params']}
    keys = list(cfg.optim_wrapper.paramwise_cfg.custom_keys)
    outside = [name for name, _ in model.named_parameters()
               if not name.startswith('backbone.') and any(key in name for key in keys)]
    assert not outside, f'no-decay keys {keys} match outside the backbone: {outside}'
    if family in NO_DECAY_PARAMS:
        base = cfg.optim_wrapper.optimizer.weight_decay
        backbone = {name: decay[id(p)] for name, p in model.named_parameters()
                    if name.startswith('backbone.')}
        expected = NO_DECAY_PARAMS[family](model.backbone)
        assert {name for name, wd in backbone.items() if wd == 0} == expected
        assert all(wd == base for name, wd in backbone.items() if name not in expected)


@pytest.mark.parametrize('path', CONFIGS, ids=_rel)
def test_config_builds_mmvitx_backbone(path):
    name = _parse_name(path)
    family, size, method = name['family'], name['size'], name['method']
    cfg = _load(path)
    assert _plain(cfg.custom_imports) == dict(imports=['mmvitx'], allow_failed_imports=False)
    backbone = cfg.model.backbone
    assert backbone.type == BACKBONE_TYPES[family]
    assert backbone.arch == name['arch']
    channels = CHANNELS[family][size]
    if family == 'psvit':
        assert backbone.pooling == name['model'].removeprefix('psvit-')
    if _is_demo(path):
        assert backbone.init_cfg is None
        assert _norm_types(cfg.model) == {'BN'}
    else:
        assert _plain(backbone.init_cfg) == dict(
            type='Pretrained', checkpoint=f'checkpoints/{name["model"]}-{size}_in1k.pth')
        if family in NO_BN_FAMILIES:
            # MViT and PSViT have no BatchNorm; the necks and heads keep the toolboxes' SyncBN
            # (mmpose's HeatmapHead builds its BN itself, without a norm_cfg; mmdet's packaged
            # FPN cascade of the PSViT detection configs has no norm, the ConvNeXt 4conv1fc
            # cascade of the MViT ones has SyncBN)
            assert 'norm_cfg' not in backbone
            no_norm = method in POSE_METHODS or (family, method) == ('psvit', 'cascade-mask-rcnn')
            assert _norm_types(cfg.model) == (set() if no_norm else {'SyncBN'})
        else:
            assert _norm_types(cfg.model) == {'SyncBN'}
        assert not backbone.norm_eval

    # input channels of necks and heads follow the backbone's branch/stage channels
    if method == 'ocr':
        assert cfg.model.type == 'CascadeEncoderDecoder'
        fcn, ocr = cfg.model.decode_head
        assert (fcn.type, ocr.type) == ('FCNHead', 'OCRHead')
        for head in (fcn, ocr):
            assert list(head.in_channels) == list(channels)
            assert tuple(head.in_index) == (0, 1, 2, 3)
            assert head.input_transform == 'resize_concat'
        assert fcn.channels == sum(channels)
    elif method == 'upernet':
        assert list(cfg.model.decode_head.in_channels) == list(channels)
        assert cfg.model.auxiliary_head.in_channels == channels[cfg.model.auxiliary_head.in_index]
    elif method == 'cascade-mask-rcnn':
        assert list(cfg.model.neck.in_channels) == list(channels)
    elif method == 'heatmap':
        assert tuple(backbone.out_indices) == (0, )
        head = cfg.model.head
        assert (head.type, head.in_channels, head.out_channels) == ('HeatmapHead', channels[0], 17)
        assert head.deconv_out_channels is None
    else:  # SimpleBaseline: HeatmapHead's default deconvolutions on the stride-32 stage
        assert tuple(backbone.out_indices) == (3, )
        head = cfg.model.head
        assert (head.type, head.in_channels, head.out_channels) == ('HeatmapHead', channels[3], 17)
        assert 'deconv_out_channels' not in head and 'deconv_kernel_sizes' not in head
    if method not in POSE_METHODS:
        assert tuple(backbone.out_indices) == (0, 1, 2, 3)

    cfg.model.backbone.init_cfg = None
    model = _build_model(cfg)
    assert type(model.backbone).__module__.startswith('mmvitx'), type(model.backbone)
    assert type(model.backbone) is MODELS.get(BACKBONE_TYPES[family])
    if method in POSE_METHODS:
        assert _num_params(model) == POSE_BACKBONE_AND_HEAD_PARAMS[family][size]
    else:
        assert _num_params(model.backbone) == SEG_BACKBONE_PARAMS[family][size]
    if method == 'simplebaseline':
        deconvs = [m for m in model.head.deconv_layers if isinstance(m, nn.ConvTranspose2d)]
        assert [(m.out_channels, m.kernel_size, m.stride) for m in deconvs] == [
            (256, (4, 4), (2, 2))] * 3
    model.backbone.eval()
    with torch.no_grad():
        outputs = model.backbone(torch.zeros(1, 3, 64, 64))
    assert [out.shape[1] for out in outputs] == [channels[i] for i in backbone.out_indices]
    _check_weight_decay(cfg, model, family)


def _seg_recipe(cfg, lr, iters, batch, crop, num_classes, no_decay_keys):
    wrapper = cfg.optim_wrapper
    assert wrapper.type == 'OptimWrapper'
    assert _plain(wrapper.optimizer) == dict(
        type='AdamW', lr=lr, betas=(0.9, 0.999), weight_decay=0.01)
    assert wrapper.paramwise_cfg.norm_decay_mult == 0
    assert _plain(wrapper.paramwise_cfg.custom_keys) == no_decay_keys
    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.begin, warmup.end) == (
        'LinearLR', 1e-6, 0, 1500)
    assert (poly.type, poly.power, poly.eta_min, poly.begin, poly.end) == (
        'PolyLR', 1.0, 0.0, 1500, iters)
    assert not warmup.by_epoch and not poly.by_epoch
    assert cfg.train_cfg.type == 'IterBasedTrainLoop' and cfg.train_cfg.max_iters == iters
    assert cfg.train_dataloader.batch_size == batch
    assert tuple(cfg.model.data_preprocessor.size) == crop
    heads = cfg.model.decode_head if isinstance(cfg.model.decode_head, list) else [
        cfg.model.decode_head, cfg.model.auxiliary_head]
    assert all(head.num_classes == num_classes for head in heads)
    assert [head.loss_decode.loss_weight for head in heads] in ([0.4, 1.0], [1.0, 0.4])


def _det_recipe(cfg, no_decay_keys):
    assert cfg.model.type == 'CascadeRCNN' and cfg.model.neck.type == 'FPN'
    assert _plain(cfg.optim_wrapper.optimizer) == dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05)
    assert cfg.optim_wrapper.paramwise_cfg.norm_decay_mult == 0
    assert _plain(cfg.optim_wrapper.paramwise_cfg.custom_keys) == no_decay_keys
    # 3x: RepeatDataset x3 over 12 epochs, 500-iteration warm-up, steps at 9 and 11; batch 2 x 8
    assert cfg.train_dataloader.dataset.type == 'RepeatDataset'
    assert cfg.train_dataloader.dataset.times == 3
    assert cfg.train_cfg.max_epochs == 12
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end, warmup.by_epoch) == (
        'LinearLR', 1e-3, 500, False)
    assert steps.milestones == [9, 11]
    assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    assert cfg.test_evaluator.metric == ['bbox', 'segm']


def _mvit_det_recipe(cfg, no_decay_keys):
    """MViTv2's detectron2 recipe (spec §2.9) on mmdet's ConvNeXt cascade: the multi-scale + crop
    pipeline, class-agnostic 4conv1fc heads; AdamW 1.6e-4 at batch 64 scaled to batch 16."""
    assert cfg.model.type == 'CascadeRCNN' and cfg.model.neck.type == 'FPN'
    wrapper = cfg.optim_wrapper
    assert wrapper.type == 'OptimWrapper' and 'constructor' not in wrapper  # no layer-wise decay
    assert _plain(wrapper.optimizer) == dict(
        type='AdamW', lr=4e-5, betas=(0.9, 0.999), weight_decay=0.1)
    assert _plain(wrapper.paramwise_cfg) == dict(norm_decay_mult=0.0, custom_keys=no_decay_keys)
    # 36 epochs (no RepeatDataset), 1000-iteration warm-up, steps at 28 and 33; batch 2 x 8
    assert cfg.train_dataloader.dataset.type == 'CocoDataset'
    assert cfg.train_cfg.max_epochs == 36
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.begin, warmup.end, warmup.by_epoch) == (
        'LinearLR', 1e-3, 0, 1000, False)
    assert (steps.type, steps.milestones, steps.gamma, steps.by_epoch) == (
        'MultiStepLR', [28, 33], 0.1, True)
    assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size == 16
    # three class-agnostic 4conv1fc box heads with SyncBN (GIoU loss on decoded boxes)
    heads = cfg.model.roi_head.bbox_head
    assert len(heads) == cfg.model.roi_head.num_stages == 3
    for head, stds in zip(heads, ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                                  [0.033, 0.033, 0.067, 0.067])):
        assert (head.type, head.num_shared_convs, head.num_shared_fcs) == ('ConvFCBBoxHead', 4, 1)
        assert head.reg_class_agnostic and head.reg_decoded_bbox
        assert head.norm_cfg.type == 'SyncBN'
        assert list(head.bbox_coder.target_stds) == stds
    # Swin/DETR multi-scale training: shorter side 480-800, or 400-600 + a 384-600 crop + 480-800
    choice, = [t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'RandomChoice']
    resize, (crop_resize, crop, resize_again) = choice.transforms
    multi_scale = [(side, 1333) for side in range(480, 801, 32)]
    assert [tuple(s) for s in resize[0].scales] == multi_scale
    assert [tuple(s) for s in crop_resize.scales] == [(400, 1333), (500, 1333), (600, 1333)]
    assert (crop.type, crop.crop_type, tuple(crop.crop_size)) == (
        'RandomCrop', 'absolute_range', (384, 600))
    assert [tuple(s) for s in resize_again.scales] == multi_scale
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    assert cfg.test_evaluator.metric == ['bbox', 'segm']


def _pose_recipe(cfg, resolution, batch, no_decay_keys):
    """mmpose's 210-epoch top-down recipe with AdamW lr 5e-4, weight decay 0.01."""
    height, width = map(int, resolution.split('x'))
    assert _plain(cfg.optim_wrapper.optimizer) == dict(
        type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.01)
    assert _plain(cfg.optim_wrapper.paramwise_cfg.custom_keys) == no_decay_keys
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end, warmup.by_epoch) == (
        'LinearLR', 1e-3, 500, False)
    assert (steps.type, steps.milestones, steps.by_epoch) == ('MultiStepLR', [170, 200], True)
    assert cfg.train_cfg.max_epochs == 210
    assert cfg.train_dataloader.batch_size == batch
    assert cfg.auto_scale_lr.base_batch_size == 8 * batch
    codec = cfg.model.head.decoder
    assert tuple(codec.input_size) == (width, height)
    assert tuple(codec.heatmap_size) == (width // 4, height // 4)
    assert codec.sigma == {'256x192': 2, '384x288': 3}[resolution]
    affine = [t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'TopdownAffine']
    assert tuple(affine[0].input_size) == (width, height)


# Drop path per family and method, by size (HRFormer's pose configs: by size and input). FasterViT
# keeps the rate of its ImageNet pre-training in every task (spec §4.2; see the base configs).
FASTERVIT_DROP_PATH = {'0': 0.2, '2': 0.2, '3': 0.3, '4': 0.3}
DROP_PATH = {
    ('hrformer', 'ocr'): {'s': 0.2, 'b': 0.4},
    ('hrformer', 'upernet'): {'s': 0.2, 'b': 0.4},
    ('hrformer', 'cascade-mask-rcnn'): {'s': 0.2, 'b': 0.3},
    ('hrformer', 'heatmap'): {('s', '256x192'): 0.1, ('s', '384x288'): 0.1,
                              ('b', '256x192'): 0.2, ('b', '384x288'): 0.3},
    **{('fastervit', method): FASTERVIT_DROP_PATH
       for method in ('ocr', 'upernet', 'cascade-mask-rcnn', 'simplebaseline')},
    # MViT detection: detectron2's MViTv2 configs (T 0.2, S inherits it, B 0.4; spec §2.9), v1-B-16
    # as the v2 model of its depth (S); elsewhere the rate of the ImageNet pre-training (§2.2, §2.4)
    ('mvit', 'cascade-mask-rcnn'): {'t': 0.2, 's': 0.2, 'b': 0.4, 'b16': 0.2},
    **{('mvit', method): {'t': 0.1, 's': 0.1, 'b': 0.3, 'b16': 0.1}
       for method in ('ocr', 'upernet', 'simplebaseline')},
    # PSViT: DeiT's rate for both sizes in every task (PSViT gives none; see the base configs)
    **{('psvit', method): {'t': 0.1, 's': 0.1}
       for method in ('ocr', 'upernet', 'cascade-mask-rcnn', 'simplebaseline')},
}
# MViT's hybrid window attention, by method and model: MViTv2 uses it where the inputs are large
# (detection; whole-image 1024x2048 inference on Cityscapes), MViT v1 never (its class token).
MVIT_WINDOW_ATTENTION = {
    'cascade-mask-rcnn': {'mvitv2': True, 'mvitv1': False},
    'ocr': {'mvitv2': True, 'mvitv1': False},
    'upernet': {'mvitv2': False, 'mvitv1': False},
    'simplebaseline': {'mvitv2': False, 'mvitv1': False},
}
# PSViT's hybrid window attention (windows of 14x14 tokens) where the inputs are large (800x1333
# detection; whole-image 1024x2048 inference on Cityscapes), as for MViTv2.
PSVIT_WINDOW_SIZE = {'cascade-mask-rcnn': 14, 'ocr': 14, 'upernet': None, 'simplebaseline': None}


def _config_strings(obj):
    if isinstance(obj, dict):
        for value in obj.values():
            yield from _config_strings(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _config_strings(value)
    elif isinstance(obj, str):
        yield obj


@pytest.mark.parametrize('path', [p for p in CONFIGS if not _is_demo(p)], ids=_rel)
def test_config_recipe(path):
    """Recipes of backbones.md §4.5/§5.5/§5.6, and the choices documented in the configs
    elsewhere."""
    name = _parse_name(path)
    family, size, method, dataset = name['family'], name['size'], name['method'], name['dataset']
    cfg = _load(path)
    no_decay_keys = NO_DECAY_KEYS[family]
    drop_path = DROP_PATH[family, method]
    assert cfg.model.backbone.drop_path_rate == drop_path[
        (size, name['suffix']) if method == 'heatmap' else size]
    if family == 'mvit':
        assert cfg.model.backbone.window_attention == MVIT_WINDOW_ATTENTION[method][name['model']]
    if family == 'psvit':
        assert cfg.model.backbone.window_size == PSVIT_WINDOW_SIZE[method]
    # nothing is downloaded: no URL anywhere (mmdet's ConvNeXt cascade, the base of the MViT
    # detection configs, defines one as a variable)
    urls = [value for value in _config_strings(cfg.to_dict()) if '://' in value]
    assert not urls, urls
    if method in ('ocr', 'upernet'):
        if dataset == 'cityscapes':  # HRFormer's OCR recipe (FasterViT, PSViT publish none)
            _seg_recipe(cfg, 1e-4, 80000, 2, (512, 1024), 19, no_decay_keys)
        elif method == 'ocr':
            _seg_recipe(cfg, 1e-4, 160000, 2, (512, 512), 150, no_decay_keys)
        else:  # Swin's mmseg UPerNet recipe, the lr, weight decay and batch of FasterViT's paper
            _seg_recipe(cfg, 6e-5, 160000, 2, (512, 512), 150, no_decay_keys)
        if method == 'ocr':
            for head in cfg.model.decode_head:
                assert _plain(head.sampler) == dict(
                    type='OHEMPixelSampler', thresh=0.9, min_kept=100000)
    elif method == 'cascade-mask-rcnn' and family == 'mvit':
        _mvit_det_recipe(cfg, no_decay_keys)
    elif method == 'cascade-mask-rcnn':
        _det_recipe(cfg, no_decay_keys)
    elif method == 'heatmap':  # HRFormer's official recipe (mmpose's HRFormer configs)
        resolution = name['suffix']
        batch = 8 if (size, resolution) == ('b', '384x288') else 32
        _pose_recipe(cfg, resolution, batch, no_decay_keys)
    else:  # mmpose's SimpleBaseline recipe (ResNet-50), AdamW instead of Adam
        assert name['suffix'] == '256x192'
        _pose_recipe(cfg, '256x192', 64, no_decay_keys)
        assert cfg.optim_wrapper.paramwise_cfg.norm_decay_mult == 0

    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg = dataset_cfg.get('dataset', dataset_cfg)  # RepeatDataset
    assert dataset_cfg.data_root == DATA_ROOTS[dataset]


@pytest.mark.parametrize('config', [
    'hrformer-s_ocr_cityscapes', 'hrformer-s_upernet_ade20k', 'hrformer-s_cascade-mask-rcnn_coco',
    'hrformer-s_heatmap_coco-256x192', 'fastervit-0_ocr_cityscapes', 'fastervit-0_upernet_ade20k',
    'fastervit-0_cascade-mask-rcnn_coco', 'fastervit-0_simplebaseline_coco-256x192',
    'mvitv2-t_ocr_cityscapes', 'mvitv2-t_upernet_ade20k', 'mvitv2-t_cascade-mask-rcnn_coco',
    'mvitv2-t_simplebaseline_coco-256x192', 'psvit-2d-s_ocr_cityscapes',
    'psvit-2d-t_upernet_ade20k', 'psvit-2d-t_cascade-mask-rcnn_coco',
    'psvit-2d-s_simplebaseline_coco-256x192'])
def test_missing_data_error_names_path(config, tmp_path, monkeypatch):
    """Without data, building the training set fails with an error that names the expected path
    (mmseg, mmdet: FileNotFoundError; mmpose: an AssertionError naming the annotation file)."""
    path = _config_path(config)
    cfg = _load(path)
    monkeypatch.chdir(tmp_path)  # no data/ here
    loader = cfg.train_dataloader
    loader.num_workers, loader.persistent_workers = 0, False
    init_default_scope(cfg.default_scope)
    with pytest.raises((FileNotFoundError, AssertionError)) as info:
        Runner.build_dataloader(loader)
    expected = DATA_ROOTS[_parse_name(path)['dataset']].rstrip('/')
    assert expected in str(info.value)


# --------------------------------------------------------------------------------------------
# One train iteration and one validation pass per config family, on the demo data


class _Probe(Hook):
    """Records the training losses, the optimizer state of the backbone and the val metrics."""
    priority = 'VERY_LOW'

    def __init__(self):
        self.losses = []
        self.backbone_grads = None
        self.metrics = None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append({k: float(v) for k, v in outputs.items() if 'loss' in k})
        optimizer = runner.optim_wrapper.optimizer
        backbone_params = [p for p in runner.model.backbone.parameters() if p.requires_grad]
        # AdamW keeps a state only for parameters that got a gradient; its first moment is
        # (1 - beta1) * grad after one step, so it is non-zero where the gradient is.
        states = [optimizer.state[p] for p in backbone_params if optimizer.state.get(p)]
        self.backbone_grads = dict(
            params=len(backbone_params),
            with_grad=len(states),
            nonzero=sum(bool(s['exp_avg'].abs().sum() > 0) for s in states))

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = dict(metrics or {})


def _set_in_pipeline(pipeline, type_name, **values):
    matched = [t for t in pipeline if t.type == type_name]
    assert matched, f'no {type_name} in the pipeline'
    for transform in matched:
        transform.update(values)


def _cpu_overrides(cfg, tmp_path, name):
    """What every CPU run changes: BN, no pretrained weights, no workers, logs, no checkpoints."""

    def sync_to_bn(obj):
        if isinstance(obj, dict):
            if obj.get('type') == 'SyncBN':
                obj['type'] = 'BN'
            for value in obj.values():
                sync_to_bn(value)
        elif isinstance(obj, list):
            for value in obj:
                sync_to_bn(value)

    sync_to_bn(cfg.model)
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.drop_path_rate = 0.0
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    cfg.work_dir = str(tmp_path / 'work_dir')
    cfg.experiment_name = f'test_configs_{name}'
    cfg.visualizer.name = f'test_configs_{name}'
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = None
    cfg.randomness = dict(seed=0)
    cfg.log_level = 'WARNING'


def _seg_overrides(cfg, data_root, scale, crop):
    cfg.model.data_preprocessor.size = crop
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=1)
    for key, indices in (('train_dataloader', 2), ('val_dataloader', 1)):
        dataset = cfg[key].dataset
        dataset.data_root = data_root
        dataset.indices = indices
    cfg.train_dataloader.batch_size = 2
    train_pipeline = cfg.train_dataloader.dataset.pipeline
    _set_in_pipeline(train_pipeline, 'RandomResize', scale=scale)
    _set_in_pipeline(train_pipeline, 'RandomCrop', crop_size=crop)
    _set_in_pipeline(cfg.val_dataloader.dataset.pipeline, 'Resize', scale=scale)


def _det_overrides(cfg, data_root):
    cfg.train_cfg.max_epochs = 1
    train = cfg.train_dataloader.dataset
    train.times = 1
    train.dataset.update(data_root=data_root, indices=2)
    _set_in_pipeline(train.dataset.pipeline, 'RandomResize', scale=[(256, 160), (256, 192)])
    _det_val_and_rois(cfg, data_root)


def _det_ms_crop_overrides(cfg, data_root):
    """``_det_overrides`` for the Swin/DETR multi-scale + crop pipeline (mmdet's ConvNeXt cascade,
    the MViT configs): no RepeatDataset; both RandomChoice branches get small scales and crop."""
    cfg.train_cfg.max_epochs = 1
    train = cfg.train_dataloader.dataset
    train.update(data_root=data_root, indices=2)
    choice, = [t for t in train.pipeline if t.type == 'RandomChoice']
    resize, (crop_resize, crop, resize_again) = choice.transforms
    multi_scale = [(160, 256), (192, 256)]
    resize[0].scales = multi_scale
    crop_resize.scales = [(128, 256), (160, 256)]
    crop.crop_size = (96, 144)
    resize_again.scales = multi_scale
    _det_val_and_rois(cfg, data_root)


def _det_val_and_rois(cfg, data_root):
    val = cfg.val_dataloader.dataset
    val.update(data_root=data_root, indices=1)
    _set_in_pipeline(val.pipeline, 'Resize', scale=(256, 192))
    cfg.val_evaluator.ann_file = f'{data_root}/annotations/instances_val2017.json'
    # Fewer RoIs: RoIAlign's backward on CPU dominates the iteration otherwise (about 4x).
    cfg.model.train_cfg.rpn_proposal.max_per_img = 256
    for stage in cfg.model.train_cfg.rcnn:
        stage.sampler.num = 64
    cfg.model.test_cfg.rpn.max_per_img = 100
    # an untrained classifier scores every class about 1/81, below the 0.05 default threshold
    cfg.model.test_cfg.rcnn.update(score_thr=0.0, max_per_img=20)


def _pose_overrides(cfg, data_root):
    cfg.train_cfg.max_epochs = 1
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.dataset.update(data_root=data_root, indices=2)
    cfg.val_dataloader.dataset.update(
        data_root=data_root, indices=2,
        bbox_file=f'{data_root}/person_detection_results/'
        'COCO_val2017_detections_AP_H_56_person.json')
    cfg.val_evaluator.ann_file = f'{data_root}/annotations/person_keypoints_val2017.json'


def _cityscapes(scale, crop):
    return lambda cfg, root: _seg_overrides(cfg, str(root / 'cityscapes'), scale, crop)


def _ade20k(scale, crop):
    return lambda cfg, root: _seg_overrides(
        cfg, str(root / 'ade' / 'ADEChallengeData2016'), scale, crop)


def _coco_det(cfg, root):
    _det_overrides(cfg, str(root / 'coco'))


def _coco_det_ms_crop(cfg, root):
    _det_ms_crop_overrides(cfg, str(root / 'coco'))


def _coco_pose(cfg, root):
    _pose_overrides(cfg, str(root / 'coco'))


DET_METRICS = ['coco/bbox_mAP', 'coco/segm_mAP']
# One run per config family of each backbone family: config -> (how to point it at the demo data,
# metric keys). FasterViT pads its maps to whole windows (7 tokens: 112 and 224 pixels at strides
# 16 and 32) and adapts its carrier tokens: its segmentation runs use odd sizes (crops 97x193 and
# 113x121, val images 125x250 and about 125x140), and neither the detection inputs (multiples of
# 32) nor the pose input (256x192) are window multiples. MViTv2-T's hybrid window attention
# (detection, OCR: windows of 56 tokens at stride 4, i.e. 224 pixels at every stage) pads the maps
# of these runs to one or two windows per side; MViT resizes its relative-position tables to every
# map and window size. The MViT runs use the FasterViT sizes, and so do the PSViT ones: PSViT pads
# the image to a multiple of its 8-pixel patch and crops the outputs, and the detection config's
# 14-token windows pad the stride-8 and stride-16 maps of the 256-pixel inputs (about 32x24 and
# 16x12 tokens) to whole windows, the last layers of stage 2 and stage 3 attending globally.
RUNS = {
    'hrformer-s_ocr_cityscapes': (_cityscapes(scale=(256, 128), crop=(128, 256)), ['mIoU']),
    'hrformer-s_ocr_ade20k': (_ade20k(scale=(256, 128), crop=(128, 128)), ['mIoU']),
    'hrformer-s_upernet_ade20k': (_ade20k(scale=(256, 128), crop=(128, 128)), ['mIoU']),
    'hrformer-s_cascade-mask-rcnn_coco': (_coco_det, DET_METRICS),
    'hrformer-s_heatmap_coco-256x192': (_coco_pose, ['coco/AP']),
    'hrformer-t_ocr_cityscapes-demo': (_cityscapes(scale=(256, 128), crop=(128, 256)), ['mIoU']),
    'fastervit-0_ocr_cityscapes': (_cityscapes(scale=(250, 125), crop=(97, 193)), ['mIoU']),
    'fastervit-0_upernet_ade20k': (_ade20k(scale=(250, 125), crop=(113, 121)), ['mIoU']),
    'fastervit-0_cascade-mask-rcnn_coco': (_coco_det, DET_METRICS),
    'fastervit-0_simplebaseline_coco-256x192': (_coco_pose, ['coco/AP']),
    'mvitv2-t_ocr_cityscapes': (_cityscapes(scale=(250, 125), crop=(97, 193)), ['mIoU']),
    'mvitv2-t_upernet_ade20k': (_ade20k(scale=(250, 125), crop=(113, 121)), ['mIoU']),
    'mvitv2-t_cascade-mask-rcnn_coco': (_coco_det_ms_crop, DET_METRICS),
    'mvitv2-t_simplebaseline_coco-256x192': (_coco_pose, ['coco/AP']),
    'psvit-2d-s_ocr_cityscapes': (_cityscapes(scale=(250, 125), crop=(97, 193)), ['mIoU']),
    'psvit-2d-t_upernet_ade20k': (_ade20k(scale=(250, 125), crop=(113, 121)), ['mIoU']),
    'psvit-2d-t_cascade-mask-rcnn_coco': (_coco_det, DET_METRICS),
    'psvit-2d-s_simplebaseline_coco-256x192': (_coco_pose, ['coco/AP']),
}


@pytest.mark.parametrize('config', list(RUNS))
def test_train_and_val_iteration(config, demo_data, tmp_path):
    point_at_demo_data, metric_keys = RUNS[config]
    path = _config_path(config)
    cfg = _load(path)
    _cpu_overrides(cfg, tmp_path, config)
    point_at_demo_data(cfg, Path(demo_data))

    runner = Runner.from_cfg(cfg)
    probe = _Probe()
    runner.register_hook(probe)
    runner.train()

    assert type(runner.model.backbone).__module__.startswith('mmvitx')
    assert type(runner.model.backbone) is MODELS.get(BACKBONE_TYPES[_parse_name(path)['family']])
    assert len(probe.losses) == 1, probe.losses  # exactly one training iteration ran
    losses = probe.losses[0]
    assert losses and all(math.isfinite(v) for v in losses.values()), losses
    assert losses['loss'] > 0
    # the gradient reached every backbone parameter
    grads = probe.backbone_grads
    assert grads['params'] > 0 and grads['with_grad'] == grads['params'], grads
    assert grads['nonzero'] >= 0.95 * grads['params'], grads
    assert probe.metrics is not None, 'no validation ran'
    for key in metric_keys:
        assert key in probe.metrics, (key, probe.metrics)
        assert math.isfinite(float(probe.metrics[key]))
