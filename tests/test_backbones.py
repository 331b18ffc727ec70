"""The checks every backbone family gets by registering (``register_backbone``), parametrized over
``BACKBONES`` and the presets of each family's ``arch_zoo`` (timm's ``tests/test_models.py``
habit). A family's own test file keeps only what is specific to it.

Forward and backward passes use each family's first preset (its smallest); parameter counts and
channels cover every preset, built on the meta device (no memory, no time). The exact counts and
channels are derived from the papers' and official releases' hyperparameters in
``tests/spec_params.py``, never printed from the models.
"""
import inspect

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from torch.nn.modules.batchnorm import _BatchNorm

from mmvitx.models.backbones import BACKBONES
from mmvitx.models.layers import plain_ops
from mmvitx.models.pretrained import CONVERTERS
from mmvitx.testing.references import ReferenceUnavailable, reference_builder
from spec_params import BACKBONE_PARAMS, LEVEL_CHANNELS

FAMILIES = list(BACKBONES)
PRESETS = [(family, arch) for family, cls in BACKBONES.items() for arch in cls.arch_zoo]
# Each family with its default options, and with each of its declared variants.
VARIANTS = [pytest.param(family, options, id='-'.join([family, *map(str, options.values())]))
            for family, cls in BACKBONES.items() for options in ({}, *cls.variants)]
# Odd, tiny, wide and tall: none a multiple of any window or stride.
SIZES = [(97, 131), (1, 1), (33, 517), (250, 190)]
BN_BUFFERS = ('running_mean', 'running_var', 'num_batches_tracked')


def smallest(family, **kwargs):
    cls = BACKBONES[family]
    return cls(arch=next(iter(cls.arch_zoo)), **kwargs)


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def train_step_grads(model, x):
    model.zero_grad()
    outs = model(x)
    # The pooled means weigh every output position, so each parameter gets a gradient.
    sum(F.adaptive_avg_pool2d(o, 1).square().sum() for o in outs).backward()
    return outs


def with_batchnorm(family, **kwargs):
    """The smallest model with a BatchNorm somewhere (as an output norm where the family has
    none), so that norm_eval has something to act on."""
    model = smallest(family, **kwargs)
    if any(isinstance(m, _BatchNorm) for m in model.modules()):
        return model
    assert 'out_norm_cfg' in inspect.signature(BACKBONES[family]).parameters, (
        f'{family} has no BatchNorm and no out_norm_cfg to give it one')
    return smallest(family, out_norm_cfg=dict(type='BN'), **kwargs)


@pytest.mark.parametrize('family', FAMILIES)
def test_contract_is_declared(family):
    cls = BACKBONES[family]
    assert cls.family == family
    assert cls.default_arch in cls.arch_zoo
    assert inspect.signature(cls).parameters['arch'].default == cls.default_arch
    assert all(alias_target in cls.arch_zoo for alias_target in cls.arch_aliases.values())
    assert family in CONVERTERS, f'{family} registers no checkpoint converter'
    assert cls.converter() is CONVERTERS[family]
    assert len(cls.level_strides) >= 1 and list(cls.level_strides) == sorted(cls.level_strides)
    if cls.reference:
        assert callable(reference_builder(cls))
    # Every weight-decay exemption names parameters of some preset or variant (not a stale key).
    names = set()
    for arch in cls.arch_zoo:
        for options in ({}, *cls.variants):
            try:
                with torch.device('meta'):
                    model = cls(arch=arch, **options)
            except ValueError:  # a variant that this preset does not allow (explained there)
                continue
            names.update(name for name, _ in model.named_parameters())
    for key in cls.no_weight_decay_keys:
        assert any(key in name for name in names), (
            f'{family}: no_weight_decay_keys entry {key!r} matches no parameter')


def norm_parameters(model):
    """Parameters of normalization layers, which the configs exempt from weight decay by type
    (mmengine's ``norm_decay_mult``)."""
    norms = (_BatchNorm, nn.LayerNorm, nn.GroupNorm)
    return {f'{module_name}.{name}'.lstrip('.')
            for module_name, module in model.named_modules() if isinstance(module, norms)
            for name, _ in module.named_parameters(recurse=False)}


@pytest.mark.parametrize('family, options', VARIANTS)
def test_no_weight_decay_keys_select_exactly_the_declared_parameters(family, options):
    """The name keys of the configs (``no_weight_decay_keys``) select the parameters that
    ``no_weight_decay()`` finds by what they are, in every preset that allows the options, and
    nothing else besides normalization layers."""
    cls = BACKBONES[family]
    for arch in cls.arch_zoo:
        try:
            with torch.device('meta'):
                model = cls(arch=arch, **options)
        except ValueError:  # options this preset does not allow (explained there)
            continue
        norms = norm_parameters(model)
        selected = {name for name, _ in model.named_parameters()
                    if any(key in name for key in cls.no_weight_decay_keys)}
        assert selected - norms == model.no_weight_decay() - norms, arch


@pytest.mark.parametrize('family, arch', PRESETS)
def test_preset_parameter_count_and_channels(family, arch):
    assert arch in BACKBONE_PARAMS[family], (
        f'tests/spec_params.py has no count for {family} {arch!r}: derive it from the paper or '
        f'the official release')
    with torch.device('meta'):  # the largest presets have over a billion parameters
        model = BACKBONES[family](arch=arch)
    assert num_params(model) == BACKBONE_PARAMS[family][arch]
    assert tuple(model.num_features) == tuple(LEVEL_CHANNELS[family][arch])
    levels = range(len(model.level_strides))
    assert tuple(model.out_indices) == tuple(levels)
    assert model.out_channels == tuple(model.num_features)
    assert model.out_strides == tuple(model.level_strides)


@pytest.mark.parametrize('size', SIZES, ids=lambda s: f'{s[0]}x{s[1]}')
@pytest.mark.parametrize('family, options', VARIANTS)
def test_any_input_size(family, options, size):
    torch.manual_seed(0)
    model = smallest(family, **options).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *size))
    expected = [(1, c, *hw) for c, hw in zip(model.out_channels, model.out_sizes(*size))]
    assert [tuple(o.shape) for o in outs] == expected
    assert all(torch.isfinite(o).all() for o in outs)
    assert all(o.is_contiguous() for o in outs)  # NCHW, whatever layout the network runs in


@pytest.mark.parametrize('family', FAMILIES)
def test_out_indices_select_levels(family):
    cls = BACKBONES[family]
    x = torch.randn(1, 3, 64, 96)
    for level, stride in enumerate(cls.level_strides):
        model = smallest(family, out_indices=(level, )).eval()
        assert model.out_strides == (stride, )
        with torch.no_grad():
            out, = model(x)
        assert out.shape == (1, model.num_features[level], *model.out_sizes(64, 96)[0])
    with pytest.raises(ValueError, match='out_indices'):
        smallest(family, out_indices=(len(cls.level_strides), ))


@pytest.mark.parametrize('family, options', VARIANTS)
def test_gradients_reach_every_parameter(family, options):
    torch.manual_seed(0)
    # No drop path: with a batch of 2 it can drop a branch for both images, leaving no gradient.
    model = smallest(family, **options)
    model.init_weights()
    model.train()
    train_step_grads(model, torch.randn(2, 3, 131, 97))
    missing = {n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()}
    # Only the parameters that hold constants (a fixed sinusoid table, random projections) get
    # none: they are frozen from the start.
    constants = model.constant_parameters()
    assert missing == constants
    assert not any(p.requires_grad for n, p in model.named_parameters() if n in constants)
    # DDP's gradient buckets take the parameters' strides: a gradient with others is copied at
    # every step, with a "Grad strides do not match bucket view strides" warning per rank.
    strides = {n: (p.stride(), p.grad.stride()) for n, p in model.named_parameters()
               if n not in constants}
    assert not {n: s for n, s in strides.items() if s[0] != s[1]}


@pytest.mark.parametrize('family', FAMILIES)
def test_frozen_stages(family):
    cls = BACKBONES[family]
    trainable = []
    for frozen_stages in range(-1, cls.num_stages + 1):
        torch.manual_seed(0)
        model = smallest(family, frozen_stages=frozen_stages)
        model.train()
        frozen = [p for p in model.parameters() if not p.requires_grad]
        trainable.append(num_params(model) - sum(p.numel() for p in frozen))
        if frozen_stages == -1:  # nothing but the constants (frozen from the start)
            assert {n for n, p in model.named_parameters() if not p.requires_grad} == (
                model.constant_parameters())
            continue
        # A frozen module stays in eval mode through train() (its BatchNorms keep statistics).
        frozen_ids = {id(p) for p in frozen}
        for module in model.modules():
            own = list(module.parameters(recurse=False))
            if own and all(id(p) in frozen_ids for p in own) and isinstance(module, _BatchNorm):
                assert not module.training
    assert trainable == sorted(trainable, reverse=True) and len(set(trainable)) == len(trainable), (
        f'each further frozen stage must freeze more parameters: {trainable}')
    with pytest.raises(ValueError, match='frozen_stages'):
        smallest(family, frozen_stages=cls.num_stages + 1)


@pytest.mark.parametrize('family', FAMILIES)
def test_norm_eval_keeps_batchnorms_in_eval_mode(family):
    model = with_batchnorm(family, norm_eval=True)
    model.train()
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms and not any(m.training for m in norms)
    assert model.training
    model = with_batchnorm(family, norm_eval=False)
    model.train()
    assert all(m.training for m in model.modules() if isinstance(m, _BatchNorm))


@pytest.mark.parametrize('family, options', VARIANTS)
def test_activation_checkpointing_gives_same_outputs_and_gradients(family, options):
    torch.manual_seed(0)
    plain = smallest(family, **options)
    checkpointed = smallest(family, with_cp=True, **options)
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 65, 49)
    results = []
    for model in (plain, checkpointed):
        model.train()
        outs = train_step_grads(model, x)
        results.append(([o.detach() for o in outs],
                         {n: p.grad for n, p in model.named_parameters()}))
    for a, b in zip(results[0][0], results[1][0]):
        torch.testing.assert_close(a, b)
    for name, grad in results[0][1].items():
        torch.testing.assert_close(grad, results[1][1][name], atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize('family, options', VARIANTS)
def test_converter_is_idempotent(family, options):
    torch.manual_seed(0)
    model = smallest(family, **options)
    state = model.state_dict()
    converted = BACKBONES[family].converter()(dict(state))
    assert list(converted) == list(state)
    assert all(converted[k] is state[k] or torch.equal(converted[k], state[k]) for k in state)


@pytest.mark.parametrize('family', FAMILIES)
def test_missing_pretrained_file_names_path_and_converter(family, tmp_path):
    path = tmp_path / f'{family}_in1k.pth'
    model = smallest(family, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(FileNotFoundError) as error:
        model.init_weights()
    assert str(path) in str(error.value)
    assert f'tools/convert_checkpoint.py {family} ' in str(error.value)


@pytest.mark.parametrize('family, options', VARIANTS)
def test_state_dict_holds_no_resolution_dependent_buffers(family, options):
    """Only parameters and BatchNorm statistics are saved, and running at other sizes changes
    neither the keys nor the shapes: a checkpoint fits every input size."""
    model = smallest(family, **options).eval()
    params = {name for name, _ in model.named_parameters()}
    before = {k: v.shape for k, v in model.state_dict().items()}
    extra = [k for k in before if k not in params and not k.endswith(BN_BUFFERS)]
    assert not extra
    with torch.no_grad():
        for size in ((64, 64), (97, 161)):
            model(torch.randn(1, 3, *size))
    assert {k: v.shape for k, v in model.state_dict().items()} == before


@pytest.mark.parametrize('family', FAMILIES)
def test_unknown_arch_names_and_keys_list_the_valid_ones(family):
    cls = BACKBONES[family]
    with pytest.raises(KeyError) as error:
        cls(arch='no-such-arch')
    assert all(repr(name) in str(error.value) for name in cls.arch_zoo)
    preset = dict(cls.arch_zoo[next(iter(cls.arch_zoo))])
    with pytest.raises(ValueError) as error:
        cls(arch=dict(preset, no_such_key=1))
    assert 'no_such_key' in str(error.value)
    assert all(key in str(error.value) for key in (*cls.arch_required, *cls.arch_defaults))
    some_required = sorted(cls.arch_required)[0]
    with pytest.raises(ValueError) as error:
        cls(arch={k: v for k, v in preset.items() if k != some_required})
    assert some_required in str(error.value)
    with pytest.raises(TypeError, match='preset name'):
        cls(arch=['not', 'an', 'arch'])
    alias, target = next(iter(cls.arch_aliases.items()), (None, None))
    if alias is not None:
        assert cls.resolve_arch(alias) == cls.resolve_arch(target)


@pytest.mark.parametrize('family', FAMILIES)
def test_registry_builds_mmvitx_class_in_every_toolbox(family):
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmpose.registry import MODELS as MMPOSE_MODELS
    from mmseg.registry import MODELS as MMSEG_MODELS
    cls = BACKBONES[family]
    arch = next(iter(cls.arch_zoo))
    for registry in (MMDET_MODELS, MMSEG_MODELS, MMPOSE_MODELS):
        # under the toolbox's own default scope, as its configs set it; the scoped name picks
        # mmvitx's class even where a toolbox has a class of the same name (mmpose's HRFormer)
        with DefaultScope.overwrite_default_scope(registry.scope), torch.device('meta'):
            assert type(registry.build(dict(type=f'mmvitx.{cls.__name__}', arch=arch))) is cls


def test_segmentor_pretrained_says_to_use_init_cfg():
    # mmseg's base configs set model.pretrained for their ResNet; EncoderDecoder hands it on.
    from mmengine.hub import get_config
    from mmseg.registry import MODELS as MMSEG_MODELS
    model = get_config('mmseg::_base_/models/upernet_r50.py').model
    model.backbone = dict(type='mmvitx.FasterViT', arch='0')
    model.pop('data_preprocessor')
    assert model.pretrained == 'open-mmlab://resnet50_v1c'
    with DefaultScope.overwrite_default_scope('mmseg'), torch.device('meta'):
        with pytest.raises(TypeError) as error:
            MMSEG_MODELS.build(model)
        assert "pretrained='open-mmlab://resnet50_v1c'" in str(error.value)
        assert 'set model.pretrained=None' in str(error.value)
        assert 'init_cfg' in str(error.value)
        model.pretrained = None
        model.backbone = dict(type='mmvitx.FasterViT', arch='0')  # EncoderDecoder wrote into it
        assert type(MMSEG_MODELS.build(model).backbone).__name__ == 'FasterViT'


@pytest.mark.parametrize('speedups', [True, False], ids=['speedups', 'plain-ops'])
@pytest.mark.parametrize('family', [f for f, cls in BACKBONES.items() if cls.reference])
def test_outputs_equal_the_reference_implementation(family, speedups):
    """The converter maps the reference's weights (strong random weights: every tensor at a
    trained model's scale) onto mmvitx's model, and both compute the same outputs, in float64 so
    that only real differences show, with mmvitx's speed-up layer and with the plain torch ops
    (``plain_ops``). Both are built in float64 too: the references compute some position tables at
    construction, which in float32 would differ by float32 rounding."""
    builder = reference_builder(BACKBONES[family])
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model, reference, name = builder(next(iter(BACKBONES[family].arch_zoo)), (224, 224),
                                         seed=0)
    except ReferenceUnavailable as error:
        pytest.fail(str(error))
    finally:
        torch.set_default_dtype(default_dtype)
    model, reference = model.double().eval(), reference.double().eval()
    x = torch.randn(2, 3, 224, 224, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), plain_ops(not speedups):
        actual, expected = model(x), reference(x)
    assert len(actual) == len(expected)
    for level, (a, e) in enumerate(zip(actual, expected)):
        assert a.shape == e.shape, (level, name)
        # strong weights give outputs of order 1 and attention far from uniform
        assert e.std() > 0.1, (level, float(e.std()))
        scale = max(1.0, float(e.abs().max()))
        assert float((a - e).abs().max()) <= 1e-9 * scale, (level, name)
