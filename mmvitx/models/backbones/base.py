"""The backbone contract and what every mmvitx backbone shares: arch presets (mmpretrain's
``arch_zoo`` habit) and argument checks, mmdet/mmpretrain-style freezing, ``norm_eval`` and
pretrained loading through the family's checkpoint converter.

A family declares its contract once, as class attributes of its :class:`DenseBackbone` subclass
(see :class:`DenseBackbone` and ``docs/adding_a_backbone.md``), and registers with
:func:`register_backbone`; the test suite, ``tools/convert_checkpoint.py`` and
``tools/analysis/benchmark.py`` read the contract from :data:`BACKBONES` and need no table of
their own.
"""
import math

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import constant_init, trunc_normal_, trunc_normal_init
from torch.nn.modules.batchnorm import _BatchNorm

from ...registry import register_model
from ..pretrained import get_converter, load_pretrained

# family name -> backbone class, in registration order (see register_backbone)
BACKBONES: dict[str, type['DenseBackbone']] = {}


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
    if isinstance(arch, int) and not isinstance(arch, bool):
        arch = str(arch)  # arch=2 for FasterViT's '2'
    if isinstance(arch, str):
        arch = arch_zoo[preset_name(family, arch, arch_zoo, arch_aliases)]
    elif not isinstance(arch, dict):
        raise TypeError(f'{family} arch must be a preset name {list(arch_zoo)} or a dict of '
                        f'hyperparameters, got {type(arch).__name__} {arch!r}')
    if not required <= set(arch):
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


class _GradientWithParameterStrides:
    """Tensor hook: the incoming gradient as a view with its parameter's strides where the two
    differ only on dimensions of size 1 (the same memory order: no copy)."""

    def __init__(self, param: nn.Parameter):
        self.param = param

    def __call__(self, grad):
        strides = self.param.stride()
        if grad.layout != torch.strided or grad.stride() == strides or any(
                size > 1 and a != b for size, a, b in zip(grad.shape, grad.stride(), strides)):
            return grad
        return grad.as_strided(grad.shape, strides)


def keep_parameter_strides_in_gradients(module: nn.Module) -> None:
    """Make the gradients of ``module``'s parameters with a size-1 dimension (1x1 and depthwise
    convolution weights) arrive with their parameter's strides.

    Over channels-last maps, oneDNN returns such a weight's gradient channels-last or not
    depending on the number of threads: the same memory order, but another stride on the size-1
    dimension. Autograd keeps it as it is; DDP, whose gradient buckets take the parameters'
    strides, then warns "Grad strides do not match bucket view strides" on every rank.
    """
    for param in module.parameters():
        if 1 in param.shape and param.requires_grad:  # not constants (constant_parameters)
            param.register_hook(_GradientWithParameterStrides(param))


class DenseBackbone(BaseModule):
    """Base of the backbones, and the contract every family declares once.

    Class attributes (the contract):

    - ``family``: the short name (``'fastervit'``): the converter's key, the name the converter
      CLI and the benchmark take, the config folder.
    - ``arch_zoo`` (preset name -> hyperparameters), ``arch_aliases`` (other names -> preset),
      ``default_arch`` (the ``arch`` argument's default), ``arch_required`` (the keys a custom
      arch dict must have) and ``arch_defaults`` (the keys it may override).
    - ``level_strides``: the stride of each output level that ``out_indices`` indexes;
      ``num_stages``: the largest ``frozen_stages`` (which freezes the stem at 0, then stages).
    - ``no_weight_decay_keys``: substrings of the parameter names exempt from weight decay besides
      the normalization layers (position tables and embeddings, class tokens, layer scales): the
      configs' ``paramwise_cfg.custom_keys``. ``no_weight_decay()`` names the parameters they are
      meant to select, found by what they are (timm's habit), so that tests can check the keys.
    - ``variants``: constructor options that change the architecture beyond the presets (window
      attention, another token pooling); the generic tests build each one too.
    - ``reference``: ``'module:function'`` building the family's reference implementation with the
      same weights (``mmvitx.testing.references``), or None where there is none;
      ``reference_options``: the constructor options the reference also implements (the benchmark
      accepts them with ``--compare``; the builder rejects combinations it cannot match).
    - ``keys_missing_from_release``: regular expressions (matched at the start) of the weights
      that release checkpoints lack because mmvitx adds them, such as the dense-prediction output
      norms ``out_norms.``: pretrained loading and the converter accept their absence, and no
      other's.
    - ``pretrain_size_keys``: regular expressions of the weights whose shapes follow
      ``pretrain_img_size`` (position embeddings and tables): a checkpoint that differs only in
      those was pretrained at another input size, and the error says so, with the size from
      ``pretrain_img_size_of(state_dict)`` where the family can tell it.
    - ``onnx_exporter`` and ``onnx_dynamic_size`` (``mmvitx.deploy.onnx``): the ONNX exporter the
      family exports with, ``'torchscript'`` (traced; the default) or ``'dynamo'``
      (``torch.export``), and whether the file can take any height and width. A family whose
      size-dependent parts its exporter cannot follow sets False, with the reason, and exports
      for one input size at a time (the batch stays symbolic).

    A built instance has ``out_indices``, ``num_features`` (the channels of every level), and
    from them ``out_channels`` and ``out_strides`` (of the requested outputs) and
    ``out_sizes(height, width)``; ``keys_not_built()`` names the checkpoint weights of layers it
    leaves out for its ``out_indices`` (loading ignores them).

    Subclasses also set ``frozen_stages`` and ``norm_eval``, implement ``_init_layers`` (the
    paper's initialisation) and ``_frozen_modules`` (what ``frozen_stages`` freezes: modules, or
    backbone-level parameters such as a class token), may add checks in ``_check_arch``, and call
    ``_finish_init()`` at the end of ``__init__``.
    """

    family: str
    arch_zoo: dict[str, dict]
    arch_aliases: dict[str, str] = {}
    default_arch: str
    arch_required: frozenset = frozenset()
    arch_defaults: dict = {}
    level_strides: tuple[int, ...] = (4, 8, 16, 32)
    num_stages: int = 4
    no_weight_decay_keys: tuple[str, ...] = ()
    variants: tuple[dict, ...] = ()
    reference: str | None = None
    reference_options: frozenset = frozenset()
    keys_missing_from_release: tuple[str, ...] = ()
    pretrain_size_keys: tuple[str, ...] = ()
    onnx_exporter: str = 'torchscript'
    onnx_dynamic_size: bool = True

    out_indices: tuple[int, ...]
    num_features: tuple[int, ...]

    def __new__(cls, *args, **kwargs):
        # mmseg's segmentors pass their ``pretrained`` (which mmseg's base configs set for the
        # ResNet they were written for) to the backbone; say what to do instead of failing on
        # an unexpected keyword.
        if 'pretrained' in kwargs:
            raise TypeError(
                f'{cls.__name__} got pretrained={kwargs["pretrained"]!r}: that is the '
                f"segmentor's model.pretrained (mmseg hands it to the backbone; its base configs "
                f'set it for their own backbone). mmvitx backbones load weights through init_cfg: '
                f'set model.pretrained=None (in the config, or --cfg-options model.pretrained=None) '
                f"and model.backbone.init_cfg=dict(type='Pretrained', checkpoint=LOCAL_FILE).")
        return super().__new__(cls)

    @classmethod
    def resolve_arch(cls, arch: str | dict) -> dict:
        """A preset name (or alias, any case) or a dict of hyperparameters -> the full arch dict;
        errors list the valid names and keys."""
        resolved = resolve_arch(cls.__name__, arch, cls.arch_zoo, cls.arch_aliases,
                                set(cls.arch_required), cls.arch_defaults)
        cls._check_arch(resolved)
        return resolved

    @classmethod
    def _check_arch(cls, arch: dict) -> None:
        """Family-specific checks of a resolved arch (raise ``ValueError``)."""

    @classmethod
    def pretrain_img_size_of(cls, state_dict: dict) -> int | None:
        """The pretraining input size that the ``pretrain_size_keys`` weights of a converted
        ``state_dict`` imply, where the family can tell; None otherwise."""
        return None

    @classmethod
    def converter(cls):
        """The family's checkpoint converter (``fn(state_dict) -> state_dict``)."""
        return get_converter(cls.family)

    @property
    def out_channels(self) -> tuple[int, ...]:
        return tuple(self.num_features[i] for i in self.out_indices)

    @property
    def out_strides(self) -> tuple[int, ...]:
        return tuple(self.level_strides[i] for i in self.out_indices)

    def no_weight_decay(self) -> set[str]:
        """Names of the parameters exempt from weight decay besides the normalization layers,
        found by module type or attribute (``_no_weight_decay_parameters``), not by name."""
        exempt = {id(p) for p in self._no_weight_decay_parameters() if p is not None}
        return {name for name, p in self.named_parameters() if id(p) in exempt}

    def _no_weight_decay_parameters(self):
        """The position tables and embeddings, class tokens and layer scales (None entries are
        skipped)."""
        return ()

    def constant_parameters(self) -> set[str]:
        """Names of the parameters that hold constants, not weights (``_constant_parameters``):
        what official models store as parameters created with ``requires_grad=False`` (T2T-ViT's
        fixed sinusoid position table and its Performers' random projections), so that their
        checkpoints hold them and their parameter counts include them. No gradient reaches
        them and nothing trains them."""
        constants = {id(p) for p in self._constant_parameters() if p is not None}
        return {name for name, p in self.named_parameters() if id(p) in constants}

    def _constant_parameters(self):
        """The parameters named by ``constant_parameters`` (None entries are skipped)."""
        return ()

    def keys_not_built(self) -> tuple[str, ...]:
        """Regular expressions (matched at the start) of the checkpoint weights of layers this
        instance leaves out because of its ``out_indices`` (HRFormer's last fusions into branches
        it does not output, PSViT's level-0 upsampling): present in a full checkpoint, not an
        error to load."""
        return ()

    def out_sizes(self, height: int, width: int) -> list[tuple[int, int]]:
        """The (H, W) of each output for an input of ``height`` x ``width``."""
        return [(math.ceil(height / s), math.ceil(width / s)) for s in self.out_strides]

    def _finish_init(self):
        """The end of a family's ``__init__``: gradients that keep their parameters' strides, and
        ``frozen_stages``."""
        keep_parameter_strides_in_gradients(self)
        self._freeze_stages()

    def _init_layers(self):
        raise NotImplementedError

    def _frozen_modules(self):
        raise NotImplementedError

    def init_weights(self):
        self._init_layers()
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            load_pretrained(self, self.init_cfg['checkpoint'], self.family,
                            strict=self.init_cfg.get('strict', True))
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


def register_backbone(cls: type[DenseBackbone]) -> type[DenseBackbone]:
    """Class decorator: checks that ``cls`` declares the contract of :class:`DenseBackbone` and
    registers it in MMEngine's ``MODELS`` (root and ``mmvitx`` scopes) and in :data:`BACKBONES`."""
    missing = [name for name in ('family', 'arch_zoo', 'default_arch') if not hasattr(cls, name)]
    if missing:
        raise TypeError(f'{cls.__name__} does not declare {missing} (see DenseBackbone)')
    if cls.default_arch not in cls.arch_zoo:
        raise TypeError(f'{cls.__name__}.default_arch {cls.default_arch!r} is not in its arch_zoo '
                        f'{list(cls.arch_zoo)}')
    if cls.family in BACKBONES and BACKBONES[cls.family] is not cls:
        raise TypeError(f'family {cls.family!r} is registered already by '
                        f'{BACKBONES[cls.family].__name__}')
    BACKBONES[cls.family] = cls
    return register_model(cls)
