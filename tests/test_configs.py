"""The configs under ``configs/``: every leaf config combines one recipe
(``configs/_base_/recipes/``) with one backbone fragment (``configs/_base_/backbones/``), and
loads, builds mmvitx's backbone with the fragment's arch and channels, carries its recipe (the
published one, or the documented choices where none is published), exempts from weight decay
exactly the parameters the backbone declares, and one train iteration plus one validation pass per
backbone family and recipe runs through mmengine's Runner on the demo data (``demo_data`` fixture,
see ``mmvitx/datasets/demo.py``).

What a family is comes from the backbone contract (``mmvitx.models.backbones.BACKBONES``: the
family name, the no-decay keys, the channels of a built model) and from the fragments. What cannot
be derived stays here: the exact parameter counts (``tests/spec_params.py``, from the published
hyperparameters), the parameters each family means to exempt from weight decay (found by module
type) and the documented deviations of single configs from their recipe (``LEAF_DEVIATIONS``).

The run tests use the smallest real config of each family and recipe, with only what a CPU test
needs changed: BN instead of SyncBN, no pretrained weights, small inputs, one iteration, a few
images, no workers and no checkpoints.
"""
import ast
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

from mmvitx.models.backbones import BACKBONES
from spec_params import (BACKBONE_PARAMS, PLAIN_VIT_DIMS, POSE_MODEL_PARAMS,
                         multi_branch_pyramid_params, plain_vit_dense_params,
                         simplebaseline_head_params)

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / 'configs'
BASE_DIR = CONFIG_DIR / '_base_'
FRAGMENT_DIR = BASE_DIR / 'backbones'
RECIPE_DIR = BASE_DIR / 'recipes'
BASE_CONFIGS = sorted(BASE_DIR.rglob('*.py'))
CONFIGS = sorted(p for p in CONFIG_DIR.rglob('*.py')
                 if '_base_' not in p.relative_to(CONFIG_DIR).parts)
# A fragment per backbone size, {model}-{size}.py (the model is the family, or mvitv2/mvitv1,
# psvit-2d), on its family's {family}.py.
FRAGMENTS = sorted(p for p in FRAGMENT_DIR.glob('*.py') if '-' in p.stem)
RECIPES = sorted(RECIPE_DIR.glob('*.py'))
# Config names {fragment}_{method}_{dataset}[-{input}]; recipes {method}_..._{dataset}[-{input}].
NAME_RE = re.compile(r'^(?P<fragment>[a-z0-9-]+)_(?P<method>[a-z-]+)_(?P<dataset>[a-z0-9]+)'
                     r'(?:-(?P<suffix>[0-9a-z-]+))?$')
POSE_METHODS = ('heatmap', 'simplebaseline')
# The fragment variable a config of a method takes its backbone from, where the family's fragments
# define one (documented deviations from the recipe: drop path, window attention); `backbone`
# otherwise.
BACKBONE_VARIANTS = {'cascade-mask-rcnn': 'backbone_det', 'ocr': 'backbone_ocr',
                     'heatmap': 'backbone_pose', 'simplebaseline': 'backbone_pose'}
# Configs that deviate from their recipe and fragment, as their headers say: HRFormer-B at 384x288
# follows HRFormer's official config (drop path 0.3, 8 images per GPU); ViT-B's UPerNet the 80k
# schedule of its published run; CaiT-S24's 24 blocks take ViTDet's and ViTPose's layer decay for
# 24 blocks.
LEAF_DEVIATIONS = {
    'hrformer-b_heatmap_coco-384x288': dict(backbone=dict(drop_path_rate=0.3), batch_size=8),
    'vit-b_upernet_ade20k': dict(iters=80000),
    'cait-s24_cascade-mask-rcnn_coco': dict(layer_decay_rate=0.8),
    'cait-s24_heatmap_coco-256x192': dict(layer_decay_rate=0.8),
}
# The plain ViT families (one stride-16 map per block) and the recipes built for them: ViTDet's
# simple feature pyramid, mmseg's MultiLevelNeck, ViTPose's head.
PLAIN_FAMILIES = frozenset(PLAIN_VIT_DIMS)
# Families of several maps at strides other than 4-32 (CrossViT's two branches, at 12 and
# 16 x 240 / 224) on the same recipes, with MultiBranchFeaturePyramid in place of their necks.
MULTI_BRANCH_FAMILIES = frozenset({'crossvit'})
VITDET_RECIPE, MLN_RECIPE, VITPOSE_RECIPE = (
    RECIPE_DIR / f'{stem}.py' for stem in ('cascade-mask-rcnn_sfp_lsj-100e_coco',
                                           'upernet_mln_ade20k-512x512',
                                           'heatmap_vitpose_coco-256x192'))
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


def _bases(path):
    """The files a config's ``_base_`` names, relative to configs/."""
    for node in ast.parse(path.read_text()).body:
        if (isinstance(node, ast.Assign)
                and [getattr(target, 'id', None) for target in node.targets] == ['_base_']):
            return [_rel((path.parent / base).resolve()) for base in ast.literal_eval(node.value)]
    return []


@functools.lru_cache(maxsize=None)
def _parse_name(path):
    """A leaf config's name and bases: ``family`` (its folder), ``fragment``, ``recipe`` (paths),
    ``method``, ``dataset``, ``suffix`` (the input, or ``demo``)."""
    match = NAME_RE.match(path.stem)
    assert match, f'{_rel(path)} does not follow {{fragment}}_{{method}}_{{dataset}}[-{{input}}].py'
    name = dict(match.groupdict(), family=path.parent.name)
    bases = _bases(path)
    fragment = f'_base_/backbones/{name["fragment"]}.py'
    assert fragment in bases, f'{_rel(path)}: its name names {fragment}, its bases are {bases}'
    recipes = [base for base in bases if base.startswith('_base_/recipes/')]
    assert len(recipes) == 1 and len(bases) == 2, f'{_rel(path)}: not one recipe and one fragment'
    name['fragment'], name['recipe'] = CONFIG_DIR / fragment, CONFIG_DIR / recipes[0]
    recipe_method, *_, recipe_dataset = Path(recipes[0]).stem.split('_')
    recipe_dataset, _, recipe_input = recipe_dataset.partition('-')
    assert (recipe_method, recipe_dataset) == (name['method'], name['dataset']), (
        f'{_rel(path)} is named for another method or dataset than its recipe {recipes[0]}')
    if name['method'] in POSE_METHODS:
        assert name['suffix'] == recipe_input, f'{_rel(path)}: input other than {recipes[0]}'
    return name


def _is_demo(path):
    return (_parse_name(path)['suffix'] or '').endswith('demo')


def _family_class(backbone_cfg):
    """The class a backbone config builds, which must be the one its family registered in the
    backbone contract (``BACKBONES``)."""
    cls = MODELS.get(backbone_cfg['type'])
    assert cls is not None and BACKBONES.get(cls.family) is cls, backbone_cfg['type']
    return cls


def _no_decay_keys(cls):
    return {key: dict(decay_mult=0.) for key in cls.no_weight_decay_keys}


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
    """Every fragment and every recipe serves a config, and there is a demo. (A config that
    disappears leaves its snapshot behind: tests/test_config_snapshots.py reports it.)"""
    used = {_parse_name(p)[base] for p in CONFIGS for base in ('fragment', 'recipe')}
    unused = sorted(_rel(p) for p in FRAGMENTS + RECIPES if p not in used)
    assert not unused, f'fragments or recipes no config uses: {unused}'
    assert any(_is_demo(p) for p in CONFIGS), 'no demo config'


@pytest.mark.parametrize('path', BASE_CONFIGS, ids=_rel)
def test_base_config_loads(path):
    cfg = _load(path)
    assert 'model' in cfg or 'optim_wrapper' in cfg or 'backbone' in cfg


@pytest.mark.parametrize('path', FRAGMENTS, ids=_rel)
def test_backbone_fragment(path):
    """A fragment's backbone dicts build its family's backbone, on its family's fragment, with the
    channels it states; its no-decay keys are the family's; its checkpoint is named after it; its
    BatchNorm, if any, is SyncBN."""
    fragment = _load(path)
    cls = _family_class(fragment.backbone)
    assert _bases(path) == [f'_base_/backbones/{cls.family}.py']
    assert _plain(fragment.backbone_no_decay) == _no_decay_keys(cls)
    assert _plain(fragment.backbone.init_cfg) == dict(
        type='Pretrained', checkpoint=f'checkpoints/{path.stem}_in1k.pth')
    variants = {key: value for key, value in fragment.items() if key.startswith('backbone')
                and key not in ('backbone_channels', 'backbone_no_decay')}
    assert set(variants) <= {'backbone', *BACKBONE_VARIANTS.values()}, sorted(variants)
    for key, backbone_cfg in variants.items():
        assert _family_class(backbone_cfg) is cls, key
        with torch.device('meta'):
            backbone = MODELS.build(dict(backbone_cfg, init_cfg=None))
        assert list(fragment.backbone_channels) == list(backbone.num_features), key
        has_bn = any(isinstance(m, _BatchNorm) for m in backbone.modules())
        assert ('norm_cfg' in backbone_cfg) == has_bn, key
        if has_bn:
            assert backbone_cfg.norm_cfg.type == 'SyncBN', key


def _check_plain_model(cfg, method, channels):
    """The necks and heads of the plain-ViT recipes on the blocks their backbone outputs."""
    backbone = cfg.model.backbone
    depth = len(channels)
    if method == 'upernet':  # mmseg's MultiLevelNeck on the last block of each quarter
        quarters = tuple((i + 1) * depth // 4 - 1 for i in range(4))
        assert tuple(backbone.out_indices) == quarters and backbone.get('with_cls_token', True)
        neck = cfg.model.neck
        assert neck.type == 'MultiLevelNeck' and list(neck.scales) == [4, 2, 1, 0.5]
        assert list(neck.in_channels) == [channels[i] for i in quarters]
        assert neck.out_channels == channels[-1]
        assert list(cfg.model.decode_head.in_channels) == [neck.out_channels] * 4
        assert cfg.model.auxiliary_head.in_channels == neck.out_channels
        return
    # ViTDet and ViTPose: the last block's map alone, without the class token
    assert tuple(backbone.out_indices) == (depth - 1, ) and backbone.with_cls_token is False
    if method == 'cascade-mask-rcnn':
        assert (backbone.window_size, backbone.use_rel_pos, backbone.rel_pos_img_size) == (
            14, True, 1024)
        assert 'global_blocks' not in backbone  # ViTDet's: the last of each quarter
        neck = cfg.model.neck
        assert (neck.type, neck.in_channels, neck.out_channels, neck.num_outs) == (
            'SimpleFeaturePyramid', channels[-1], 256, 5)
        assert 'scale_factors' not in neck  # all four: strides 4, 8, 16, 32
    else:
        assert backbone.final_norm is True and 'window_size' not in backbone
        head = cfg.model.head
        assert (head.type, head.in_channels, head.out_channels) == ('HeatmapHead', channels[-1], 17)
        assert list(head.deconv_out_channels) == [256, 256]
        assert list(head.deconv_kernel_sizes) == [4, 4]


def _check_multi_branch_model(cfg, method, channels):
    """The multi-branch families on the plain-ViT recipes: every branch, at its stride in the
    input, into MultiBranchFeaturePyramid in place of the recipe's neck: 256 channels at strides
    4-32 and a max-pooled 64 for ViTDet's detector, the widest branch's width at strides 4-32 for
    UPerNet, one stride-16 level for ViTPose's head."""
    backbone = cfg.model.backbone
    assert tuple(backbone.out_indices) == tuple(range(len(channels)))
    assert 'window_size' not in backbone  # the class tokens attend globally
    with torch.device('meta'):
        branch_strides = MODELS.build(dict(backbone, init_cfg=None)).branch_strides
    neck = cfg.model.neck
    assert (neck.type, list(neck.in_channels), tuple(neck.in_strides)) == (
        'MultiBranchFeaturePyramid', channels, branch_strides)
    assert 'scale_factors' not in neck and 'scales' not in neck  # nothing left of the recipe's
    if method == 'cascade-mask-rcnn':
        assert (neck.out_channels, neck.num_outs) == (256, 5) and 'strides' not in neck
    elif method == 'upernet':
        assert neck.out_channels == max(channels)
        assert 'strides' not in neck and 'num_outs' not in neck
        assert list(cfg.model.decode_head.in_channels) == [neck.out_channels] * 4
        assert cfg.model.auxiliary_head.in_channels == neck.out_channels
    else:
        assert neck.out_channels == max(channels) and tuple(neck.strides) == (16, )
        head = cfg.model.head
        assert (head.type, head.in_channels, head.out_channels) == (
            'HeatmapHead', neck.out_channels, 17)
        assert list(head.deconv_out_channels) == [256, 256]


def _check_weight_decay(cfg, model):
    """The custom no-decay keys select backbone parameters only: exactly the backbone's
    ``no_weight_decay()`` (found by what the parameters are, not by name), and with
    ``norm_decay_mult=0`` its normalization layers; everything else keeps the base weight decay."""
    init_default_scope(cfg.default_scope)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {id(p): group['weight_decay']
             for group in wrapper.optimizer.param_groups for p in group['params']}
    keys = list(cfg.optim_wrapper.paramwise_cfg.custom_keys)
    outside = [name for name, _ in model.named_parameters()
               if not name.startswith('backbone.') and any(key in name for key in keys)]
    assert not outside, f'no-decay keys {keys} match outside the backbone: {outside}'
    expected = {f'backbone.{name}' for name in model.backbone.no_weight_decay()}
    norms = (_BatchNorm, nn.LayerNorm, nn.GroupNorm)
    if cfg.optim_wrapper.paramwise_cfg.get('norm_decay_mult') == 0:  # not in HRFormer's pose recipe
        expected |= {f'backbone.{module_name}.{name}'
                     for module_name, module in model.backbone.named_modules()
                     if isinstance(module, norms)
                     for name, _ in module.named_parameters(recurse=False)}
    if cfg.optim_wrapper.paramwise_cfg.get('bias_decay_mult') == 0:  # ViTPose's recipe
        expected |= {f'backbone.{module_name}.bias'
                     for module_name, module in model.backbone.named_modules()
                     if getattr(module, 'bias', None) is not None
                     and isinstance(module.bias, nn.Parameter)}
    base = cfg.optim_wrapper.optimizer.weight_decay
    # constants (a fixed sinusoid table, random projections) never train: not in the optimizer
    constants = {f'backbone.{name}' for name in model.backbone.constant_parameters()}
    assert not any(id(p) in decay for name, p in model.named_parameters() if name in constants)
    backbone = {name: decay[id(p)] for name, p in model.named_parameters()
                if name.startswith('backbone.') and name not in constants}
    assert {name for name, wd in backbone.items() if wd == 0} == expected
    assert all(wd == base for name, wd in backbone.items() if name not in expected)


@pytest.mark.parametrize('path', CONFIGS, ids=_rel)
def test_config_builds_mmvitx_backbone(path):
    name = _parse_name(path)
    family, method = name['family'], name['method']
    cfg = _load(path)
    fragment = _load(name['fragment'])
    assert _plain(cfg.custom_imports) == dict(imports=['mmvitx'], allow_failed_imports=False)
    backbone = cfg.model.backbone
    cls = _family_class(backbone)
    assert cls.family == family, f'{_rel(path)}: a {cls.family} backbone in the {family} folder'
    assert backbone.type == f'mmvitx.{cls.__name__}'  # mmpose registers an HRFormer of its own
    assert backbone.arch == fragment.backbone.arch
    channels = list(fragment.backbone_channels)
    if _is_demo(path):
        assert backbone.init_cfg is None
        assert _norm_types(cfg.model) == {'BN'}
    else:
        variant = fragment.get(BACKBONE_VARIANTS.get(method, 'backbone'), fragment.backbone)
        assert _plain(backbone.init_cfg) == _plain(variant.init_cfg)
        # multi-GPU recipes: any BatchNorm is synchronised (the toolboxes' necks and heads too);
        # ViTDet's heads have channel LayerNorms
        assert _norm_types(cfg.model) <= {'SyncBN', 'LN2d'}
        assert not backbone.norm_eval

    # input channels of necks and heads follow the backbone's channels
    plain = family in PLAIN_FAMILIES
    multi_branch = family in MULTI_BRANCH_FAMILIES
    assert (plain or multi_branch) == (
        name['recipe'] in (VITDET_RECIPE, MLN_RECIPE, VITPOSE_RECIPE)), (
        f'{_rel(path)}: the plain ViT and multi-branch families use the ViTDet, MultiLevelNeck '
        f'and ViTPose recipes')
    if plain:
        _check_plain_model(cfg, method, channels)
    elif multi_branch:
        _check_multi_branch_model(cfg, method, channels)
    elif method == 'ocr':
        assert cfg.model.type == 'CascadeEncoderDecoder'
        fcn, ocr = cfg.model.decode_head
        assert (fcn.type, ocr.type) == ('FCNHead', 'OCRHead')
        for head in (fcn, ocr):
            assert list(head.in_channels) == channels
            assert tuple(head.in_index) == (0, 1, 2, 3)
            assert head.input_transform == 'resize_concat'
        assert fcn.channels == sum(channels)
    elif method == 'upernet':
        assert list(cfg.model.decode_head.in_channels) == channels
        assert cfg.model.auxiliary_head.in_channels == channels[cfg.model.auxiliary_head.in_index]
    elif method == 'cascade-mask-rcnn':
        assert list(cfg.model.neck.in_channels) == channels
    elif method == 'heatmap':
        assert tuple(backbone.out_indices) == (0, )
        head = cfg.model.head
        assert (head.type, head.in_channels, head.out_channels) == ('HeatmapHead', channels[0], 17)
        assert head.deconv_out_channels is None
    else:  # SimpleBaseline: HeatmapHead's default deconvolutions on the stride-32 output
        assert tuple(backbone.out_indices) == (3, )
        head = cfg.model.head
        assert (head.type, head.in_channels, head.out_channels) == ('HeatmapHead', channels[3], 17)
        assert 'deconv_out_channels' not in head and 'deconv_kernel_sizes' not in head
    if method not in POSE_METHODS and not plain and not multi_branch:
        assert tuple(backbone.out_indices) == (0, 1, 2, 3)

    cfg.model.backbone.init_cfg = None
    model = _build_model(cfg)
    assert type(model.backbone) is cls
    assert list(model.backbone.num_features) == channels
    if plain:
        options = {key: value for key, value in backbone.items() if key != 'arch'}
        expected = plain_vit_dense_params(family, backbone.arch, **options)
        if method in POSE_METHODS:  # ViTPose's head: two deconvolutions
            assert _num_params(model) == expected + simplebaseline_head_params(
                channels[-1], num_deconvs=2)
        assert _num_params(model.backbone) == expected
    elif method in POSE_METHODS:
        assert _num_params(model) == POSE_MODEL_PARAMS[family](backbone.arch, channels)
    else:
        assert _num_params(model.backbone) == BACKBONE_PARAMS[family][backbone.arch]
    if multi_branch:
        neck = cfg.model.neck
        assert _num_params(model.neck) == multi_branch_pyramid_params(
            channels, neck.out_channels, len(neck.get('strides', (4, 8, 16, 32))))
    if method == 'simplebaseline':
        deconvs = [m for m in model.head.deconv_layers if isinstance(m, nn.ConvTranspose2d)]
        assert [(m.out_channels, m.kernel_size, m.stride) for m in deconvs] == [
            (256, (4, 4), (2, 2))] * 3
    model.backbone.eval()
    with torch.no_grad():
        outputs = model.backbone(torch.zeros(1, 3, 64, 64))
    assert [out.shape[1] for out in outputs] == list(model.backbone.out_channels)
    _check_weight_decay(cfg, model)


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


def _check_step_schedule(cfg, warmup_iters, milestones):
    """A linear warm-up over ``warmup_iters`` iterations from 1e-3 x lr, then x0.1 at the epoch
    ``milestones``."""
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.begin, warmup.end, warmup.by_epoch) == (
        'LinearLR', 1e-3, 0, warmup_iters, False)
    assert (steps.type, steps.milestones, steps.gamma, steps.by_epoch) == (
        'MultiStepLR', milestones, 0.1, True)


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
    _check_step_schedule(cfg, 500, [9, 11])
    assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    assert cfg.test_evaluator.metric == ['bbox', 'segm']


def _mvit_det_recipe(cfg, no_decay_keys):
    """detectron2's MViTv2 recipe on mmdet's ConvNeXt cascade: the multi-scale + crop pipeline,
    class-agnostic 4conv1fc heads; AdamW 1.6e-4 at batch 64 scaled to batch 16."""
    assert cfg.model.type == 'CascadeRCNN' and cfg.model.neck.type == 'FPN'
    wrapper = cfg.optim_wrapper
    # mmengine's constructor (logging in brief), no layer-wise decay
    assert (wrapper.type, wrapper.constructor) == ('OptimWrapper',
                                                   'SummarizedOptimWrapperConstructor')
    assert _plain(wrapper.optimizer) == dict(
        type='AdamW', lr=4e-5, betas=(0.9, 0.999), weight_decay=0.1)
    assert _plain(wrapper.paramwise_cfg) == dict(norm_decay_mult=0.0, custom_keys=no_decay_keys)
    # 36 epochs (no RepeatDataset), 1000-iteration warm-up, steps at 28 and 33; batch 2 x 8
    assert cfg.train_dataloader.dataset.type == 'CheckedCocoDataset'  # no RepeatDataset
    assert cfg.train_cfg.max_epochs == 36
    _check_step_schedule(cfg, 1000, [28, 33])
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
    _check_step_schedule(cfg, 500, [170, 200])
    assert cfg.train_cfg.max_epochs == 210
    assert cfg.train_dataloader.batch_size == batch
    assert cfg.auto_scale_lr.base_batch_size == 8 * batch
    codec = cfg.model.head.decoder
    assert tuple(codec.input_size) == (width, height)
    assert tuple(codec.heatmap_size) == (width // 4, height // 4)
    assert codec.sigma == {'256x192': 2, '384x288': 3}[resolution]
    affine = [t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'TopdownAffine']
    assert tuple(affine[0].input_size) == (width, height)


def _vitdet_recipe(cfg, no_decay_keys, layer_decay_rate, neck='SimpleFeaturePyramid'):
    """ViTDet's Cascade Mask R-CNN recipe: LSJ at 1024 with square padding, ViTDet's heads,
    AdamW 1e-4 / 0.1 with layer-wise decay, 100 epochs at batch 64."""
    model = cfg.model
    assert model.type == 'CascadeRCNN' and model.neck.type == neck
    wrapper = cfg.optim_wrapper
    assert (wrapper.type, wrapper.constructor) == ('OptimWrapper',
                                                   'LayerwiseLRDecayOptimWrapperConstructor')
    assert _plain(wrapper.optimizer) == dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1)
    assert _plain(wrapper.paramwise_cfg) == dict(
        layer_decay_rate=layer_decay_rate, norm_decay_mult=0.0, custom_keys=no_decay_keys)
    # mmdet's LSJ 100e: RepeatDataset x4 over 25 epochs, steps at 22 and 24; 250-iteration warm-up
    train = cfg.train_dataloader.dataset
    assert (train.type, train.times, train.dataset.type) == (
        'RepeatDataset', 4, 'CheckedCocoDataset')
    assert cfg.train_cfg.max_epochs == 25
    _check_step_schedule(cfg, 250, [22, 24])
    assert cfg.train_dataloader.batch_size * 32 == cfg.auto_scale_lr.base_batch_size == 64
    resize, crop = (next(t for t in train.dataset.pipeline if t.type == kind)
                    for kind in ('RandomResize', 'RandomCrop'))
    assert (tuple(resize.scale), tuple(resize.ratio_range)) == ((1024, 1024), (0.1, 2.0))
    assert (crop.crop_type, tuple(crop.crop_size)) == ('absolute_range', (1024, 1024))
    # square padding to 1024 after normalisation, in training and test
    assert model.data_preprocessor.pad_size_divisor == 1024
    assert model.data_preprocessor.get('pad_value', 0) == 0
    test_resize, = [t for t in cfg.test_dataloader.dataset.pipeline if t.type == 'Resize']
    assert (tuple(test_resize.scale), test_resize.keep_ratio) == ((1024, 1024), True)
    # ViTDet's heads: two RPN convolutions, 4conv1fc box heads and a 4-conv mask head with LN
    assert model.rpn_head.num_convs == 2
    heads = model.roi_head.bbox_head
    assert len(heads) == model.roi_head.num_stages == 3
    for head in heads:
        assert (head.type, head.norm_cfg.type, head.reg_class_agnostic) == (
            'Shared4Conv1FCBBoxHead', 'LN2d', True)
    assert (model.roi_head.mask_head.num_convs, model.roi_head.mask_head.norm_cfg.type) == (
        4, 'LN2d')
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    assert cfg.test_evaluator.metric == ['bbox', 'segm']


def _vitpose_recipe(cfg, no_decay_keys, layer_decay_rate):
    """ViTPose's recipe (mmpose's ViTPose-B config): UDP, AdamW 5e-4 / 0.1, layer decay,
    gradient clipping, 210 epochs at 64 images per GPU."""
    wrapper = cfg.optim_wrapper
    assert wrapper.constructor == 'LayerwiseLRDecayOptimWrapperConstructor'
    assert _plain(wrapper.optimizer) == dict(
        type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.1)
    assert _plain(wrapper.paramwise_cfg) == dict(
        layer_decay_rate=layer_decay_rate, norm_decay_mult=0.0, bias_decay_mult=0.0,
        custom_keys=no_decay_keys)
    assert _plain(wrapper.clip_grad) == dict(max_norm=1.0, norm_type=2)
    _check_step_schedule(cfg, 500, [170, 200])
    assert cfg.train_cfg.max_epochs == 210
    assert cfg.train_dataloader.batch_size == 64 and cfg.auto_scale_lr.base_batch_size == 512
    codec = cfg.model.head.decoder
    assert (codec.type, tuple(codec.input_size), tuple(codec.heatmap_size), codec.sigma) == (
        'UDPHeatmap', (192, 256), (48, 64), 2)
    assert cfg.model.test_cfg.flip_test
    assert cfg.custom_imports.imports == ['mmvitx']  # not mmpose's layer-decay constructor


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
    """The recipes (the published ones, and the choices their comments document elsewhere), with
    the backbone of the fragment: its variant for the method where it has one."""
    name = _parse_name(path)
    method, dataset = name['method'], name['dataset']
    cfg = _load(path)
    fragment = _load(name['fragment'])
    deviations = LEAF_DEVIATIONS.get(path.stem, {})
    variant = BACKBONE_VARIANTS.get(method, 'backbone')
    backbone = _plain(fragment.get(variant, fragment.backbone))
    expected_backbone = dict(
        backbone,  # the plain-ViT fragments choose the blocks to output, the recipes do not
        out_indices=_load(name['recipe']).model.backbone.get('out_indices',
                                                             backbone.get('out_indices')),
        **deviations.get('backbone', {}))
    assert _plain(cfg.model.backbone) == expected_backbone
    no_decay_keys = _no_decay_keys(_family_class(cfg.model.backbone))
    # nothing is downloaded: no URL anywhere (mmdet's ConvNeXt cascade, the base of the MViT
    # detection configs, defines one as a variable)
    urls = [value for value in _config_strings(cfg.to_dict()) if '://' in value]
    assert not urls, urls
    if name['recipe'] == VITDET_RECIPE:
        _vitdet_recipe(cfg, no_decay_keys, deviations.get('layer_decay_rate', 0.7),
                       'MultiBranchFeaturePyramid' if name['family'] in MULTI_BRANCH_FAMILIES
                       else 'SimpleFeaturePyramid')
    elif name['recipe'] == MLN_RECIPE:  # mmseg's ViT/DeiT recipe
        _seg_recipe(cfg, 6e-5, deviations.get('iters', 160000), 2, (512, 512), 150, no_decay_keys)
        assert cfg.model.auxiliary_head.in_index == 3
    elif name['recipe'] == VITPOSE_RECIPE:
        _vitpose_recipe(cfg, no_decay_keys, deviations.get('layer_decay_rate', 0.75))
    elif method in ('ocr', 'upernet'):
        if dataset == 'cityscapes':  # HRFormer's OCR recipe
            _seg_recipe(cfg, 1e-4, 80000, 2, (512, 1024), 19, no_decay_keys)
        elif method == 'ocr':
            _seg_recipe(cfg, 1e-4, 160000, 2, (512, 512), 150, no_decay_keys)
        else:  # Swin's mmseg UPerNet recipe, the lr, weight decay and batch of FasterViT's paper
            _seg_recipe(cfg, 6e-5, 160000, 2, (512, 512), 150, no_decay_keys)
        if method == 'ocr':
            for head in cfg.model.decode_head:
                assert _plain(head.sampler) == dict(
                    type='OHEMPixelSampler', thresh=0.9, min_kept=100000)
    elif method == 'cascade-mask-rcnn' and 'ms-crop' in name['recipe'].stem:
        _mvit_det_recipe(cfg, no_decay_keys)
    elif method == 'cascade-mask-rcnn':
        _det_recipe(cfg, no_decay_keys)
    elif method == 'heatmap':  # HRFormer's official recipe (mmpose's HRFormer configs)
        _pose_recipe(cfg, name['suffix'], deviations.get('batch_size', 32), no_decay_keys)
    else:  # mmpose's SimpleBaseline recipe (ResNet-50), AdamW instead of Adam
        assert name['suffix'] == '256x192'
        _pose_recipe(cfg, '256x192', 64, no_decay_keys)
        assert cfg.optim_wrapper.paramwise_cfg.norm_decay_mult == 0

    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg = dataset_cfg.get('dataset', dataset_cfg)  # RepeatDataset
    assert dataset_cfg.data_root == DATA_ROOTS[dataset]


def _smallest_per_recipe():
    """The config with the smallest backbone for each family, method and dataset (the first input
    size where there are several), and the demo. The plain ViT families share their recipes and
    their block, so each of their recipes runs once, with the smallest family not yet run (three
    kinds of stem then run: T2T-ViT's tokens-to-token module, So-ViT's bottlenecks, CeiT's
    image-to-tokens stem with its convolutional FFN). The multi-branch families wire their neck differently per recipe: each of
    their recipes runs, with the family's smallest preset (:func:`_with_smallest_preset`)."""
    smallest, plain, demos = {}, {}, []
    for path in CONFIGS:
        name = _parse_name(path)
        if _is_demo(path):
            demos.append(path)
            continue
        size = BACKBONE_PARAMS[name['family']][_load(name['fragment']).backbone.arch]
        if name['family'] in PLAIN_FAMILIES:
            plain.setdefault(name['recipe'], []).append((size, path))
        else:
            key = (name['family'], name['method'], name['dataset'])
            smallest.setdefault(key, []).append((size, path))
    runs = [min(candidates)[1] for candidates in smallest.values()]
    ran = set()
    for recipe in sorted(plain):
        path = min(c for c in plain[recipe] if _parse_name(c[1])['family'] not in ran)[1]
        ran.add(_parse_name(path)['family'])
        runs.append(path)
    return sorted(runs) + demos


RUN_CONFIGS = _smallest_per_recipe()


def _with_smallest_preset(cfg):
    """A multi-branch family's config with the family's smallest preset, its branches' channels
    and strides into the neck: the run checks the neck wiring, which the smallest shows as well."""
    cls = _family_class(cfg.model.backbone)
    arch = next(iter(cls.arch_zoo))
    with torch.device('meta'):
        backbone = cls(arch)
    cfg.model.backbone.arch = arch
    cfg.model.neck.in_channels = list(backbone.num_features)
    cfg.model.neck.in_strides = list(backbone.branch_strides)


@pytest.mark.parametrize('path', [p for p in RUN_CONFIGS if not _is_demo(p)], ids=_rel)
def test_missing_data_error_names_path(path, tmp_path, monkeypatch):
    """Without data, building the training set fails with an error that names the expected path
    (mmseg, mmdet: FileNotFoundError; mmpose: an AssertionError naming the annotation file)."""
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
# One train iteration and one validation pass per backbone family and recipe, on the demo data


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


def _det_lsj_overrides(cfg, data_root):
    """``_det_overrides`` for ViTDet's large-scale jitter and square padding, at 256 instead of
    1024 (the val images are resized to at most 256x192)."""
    cfg.train_cfg.max_epochs = 1
    train = cfg.train_dataloader.dataset
    train.times = 1
    train.dataset.update(data_root=data_root, indices=2)
    _set_in_pipeline(train.dataset.pipeline, 'RandomResize', scale=(256, 256))
    _set_in_pipeline(train.dataset.pipeline, 'RandomCrop', crop_size=(256, 256))
    cfg.model.data_preprocessor.pad_size_divisor = 256
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


DET_METRICS = ['coco/bbox_mAP', 'coco/segm_mAP']
# Segmentation inputs of odd sizes, multiples of no window or stride (crops 97x193 and 113x121, val
# images 125x250 and about 125x140): FasterViT pads its maps to whole windows (7 tokens: 112 and 224
# pixels at strides 16 and 32) and adapts its carrier tokens, MViTv2's hybrid window attention
# (windows of 56 tokens at stride 4, i.e. 224 pixels at every stage) pads to one or two windows per
# side and MViT resizes its relative-position tables to every map and window size, PSViT pads the
# image to a multiple of its 8-pixel patch and crops the outputs, HRFormer pads its 7x7 windows and
# resizes in its fusion layers. Neither the detection inputs (multiples of 32) nor the pose input
# (256x192) are window multiples either: PSViT's 14-token detection windows pad the stride-8 and
# stride-16 maps (about 32x24 and 16x12 tokens), the last layers of stages 2 and 3 attending
# globally.
SEG_RUN_SIZES = {'cityscapes': dict(scale=(250, 125), crop=(97, 193)),
                 'ade20k': dict(scale=(250, 125), crop=(113, 121))}


def _point_at_demo_data(cfg, root, name):
    """Points a config at the demo data under ``root``, with small inputs; returns the metric keys
    its validation reports."""
    data_root = str(root / DATA_ROOTS[name['dataset']].removeprefix('data/'))
    if name['method'] in ('ocr', 'upernet'):
        _seg_overrides(cfg, data_root, **SEG_RUN_SIZES[name['dataset']])
        return ['mIoU']
    if name['method'] == 'cascade-mask-rcnn':
        if name['recipe'] == VITDET_RECIPE:
            _det_lsj_overrides(cfg, data_root)
        elif cfg.train_dataloader.dataset.type == 'RepeatDataset':
            _det_overrides(cfg, data_root)
        else:
            _det_ms_crop_overrides(cfg, data_root)
        return DET_METRICS
    _pose_overrides(cfg, data_root)
    return ['coco/AP']


@pytest.mark.slow
@pytest.mark.parametrize('path', RUN_CONFIGS, ids=_rel)
def test_train_and_val_iteration(path, demo_data, tmp_path):
    cfg = _load(path)
    _cpu_overrides(cfg, tmp_path, path.stem)
    if _parse_name(path)['family'] in MULTI_BRANCH_FAMILIES:
        _with_smallest_preset(cfg)
    metric_keys = _point_at_demo_data(cfg, Path(demo_data), _parse_name(path))

    runner = Runner.from_cfg(cfg)
    probe = _Probe()
    runner.register_hook(probe)
    runner.train()

    assert type(runner.model.backbone) is BACKBONES[_parse_name(path)['family']]
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
