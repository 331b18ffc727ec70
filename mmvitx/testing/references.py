"""Reference implementations of the backbone families, with mmvitx's model on the same weights.

A family names its builder in its contract (``DenseBackbone.reference``,
``'mmvitx.testing.references:build_fastervit_pair'``); the test suite and
``tools/analysis/benchmark.py --compare`` both call it. A builder takes ``(arch, size, seed,
**model_kwargs)`` and returns ``(mmvitx model, reference, reference name)``: the reference gets
random weights at a trained model's scale (:func:`strong_randomize_`), which mmvitx's converter
then maps onto the mmvitx model, so equal outputs show that the converter and the architecture
agree. The references are test and benchmark dependencies only (mmvitx itself never imports them):

- FasterViT: the official ``fastervit`` package (non-commercial licence; used, never copied);
- HRFormer: mmpose's ``HRFormer``;
- MViTv2: timm's ``mvitv2_*`` models;
- ViT, DeiT (distilled too) and CaiT: timm's ``vit_*``, ``deit_*`` and ``cait_*`` models.
- TNT: timm's ``tnt_*`` models (its legacy port too).
- CrossViT: timm's ``crossvit_*`` models.
"""
import copy
import importlib
import warnings
from contextlib import contextmanager

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm


class ReferenceUnavailable(Exception):
    """The reference cannot be built for this request (package missing, size or arch it does not
    implement); the message says why and what would work."""


def build_float64_pair(builder, arch, size, **model_kwargs):
    """``builder``'s pair (strong random weights) built in float64 (some references compute
    position tables at construction), both in eval mode."""
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model, reference, _ = builder(arch, size, **model_kwargs)
    finally:
        torch.set_default_dtype(default_dtype)
    return model.double().eval(), reference.double().eval()


def reference_builder(backbone_cls):
    """The family's reference builder named by its contract, or None where it has none."""
    if not backbone_cls.reference:
        return None
    module, _, function = backbone_cls.reference.partition(':')
    return getattr(importlib.import_module(module), function)


def strong_randomize_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Redraw every weight of ``model`` at the scale of a trained network, so that a wrong weight
    mapping or a differing computation cannot hide (a small perturbation of an initialised model
    leaves attention almost uniform and position terms almost constant):

    - convolution and linear weights N(0, 1/fan_in): unit-scale activations, attention logits of
      order 1 (far from uniform);
    - other weights of two or more dimensions (position tables and embeddings, class tokens,
      relative-position tables) N(0, 1/last dim);
    - one-dimensional weights (norm scales, layer scales) uniform in [0.5, 1.5]; biases N(0, 0.2);
    - BatchNorm statistics: means N(0, 0.2), variances uniform in [0.5, 2].

    Buffers other than BatchNorm statistics (index tables, resolution-dependent caches) are left
    alone.
    """
    generator = torch.Generator().manual_seed(seed)

    def draw(tensor, fill):
        values = torch.empty(tensor.shape, dtype=torch.float64)
        fill(values)
        tensor.copy_(values)

    with torch.no_grad():
        for module in model.modules():
            for name, param in module.named_parameters(recurse=False):
                if not param.is_floating_point():
                    continue
                if name == 'bias' or param.dim() == 0:
                    draw(param, lambda t: t.normal_(0, 0.2, generator=generator))
                elif isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)) and name == 'weight':
                    fan_in = param[0].numel()
                    draw(param, lambda t: t.normal_(0, fan_in**-0.5, generator=generator))
                elif param.dim() == 1:
                    draw(param, lambda t: t.uniform_(0.5, 1.5, generator=generator))
                else:
                    draw(param, lambda t: t.normal_(0, param.shape[-1]**-0.5, generator=generator))
            if isinstance(module, _BatchNorm) and module.track_running_stats:
                draw(module.running_mean, lambda t: t.normal_(0, 0.2, generator=generator))
                draw(module.running_var, lambda t: t.uniform_(0.5, 2.0, generator=generator))
    return model


def load_converted(family: str, model: nn.Module, reference_state: dict) -> None:
    """Load the reference's weights into the mmvitx model through mmvitx's converter; every
    model weight but the output norms (which the references do not have) must be mapped."""
    from mmvitx.models.pretrained import get_converter, key_matcher
    converted = get_converter(family)(reference_state)
    # Weights of layers the model leaves out for its options (keys_not_built) are not loaded.
    not_built = key_matcher(model.keys_not_built()) if hasattr(model, 'keys_not_built') else None
    if not_built is not None:
        converted = {k: v for k, v in converted.items() if not not_built.match(k)}
    result = model.load_state_dict(converted, strict=False)
    missing = [k for k in result.missing_keys if not k.startswith('out_norms.')]
    if result.unexpected_keys or missing:
        raise AssertionError(
            f'the {family} converter does not map the reference weights onto the mmvitx model: '
            f'unexpected {result.unexpected_keys[:5]}, missing {missing[:5]}')


@contextmanager
def quiet_imports():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        yield


def import_reference(module: str, package: str, family: str):
    try:
        with quiet_imports():
            return importlib.import_module(module)
    except ImportError as error:
        raise ReferenceUnavailable(
            f'the {family} reference needs the {package} package ({error}); it is a test and '
            f'benchmark dependency: pip install {package} (or -r requirements/tests.txt)') from None


class FasterViTReference(nn.Module):
    """The official FasterViT's stage outputs (before each downsample) through copies of the
    mmvitx model's output norms: the same computation as mmvitx's backbone."""

    def __init__(self, official: nn.Module, out_norms: nn.ModuleDict, out_indices):
        super().__init__()
        official.norm = nn.Identity()  # the classifier's norm and head are not used
        official.head = nn.Identity()
        self.official = official
        self.out_norms = copy.deepcopy(out_norms)
        self.out_indices = tuple(out_indices)
        self._stage_outputs = []
        for level in official.levels:
            if level.downsample is not None:
                level.downsample.register_forward_pre_hook(self._capture)

    def _capture(self, module, args):
        self._stage_outputs.append(args[0])

    def forward(self, x):
        self._stage_outputs = []
        x = self.official.patch_embed(x)
        for level in self.official.levels:
            x = level(x)
        outs = [*self._stage_outputs, x]
        self._stage_outputs = []
        return tuple(self.out_norms[str(i)](outs[i]) for i in self.out_indices)


class MMPoseHRFormerReference(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        return tuple(self.model(x))


class TimmMViTReference(nn.Module):
    """timm's MViTv2 stage outputs (NCHW) through copies of the mmvitx model's output norms."""

    def __init__(self, model: nn.Module, out_norms: nn.ModuleDict, out_indices):
        super().__init__()
        model.norm = nn.Identity()  # the classifier's norm is not used
        self.model = model
        self.out_norms = copy.deepcopy(out_norms)
        self.out_indices = tuple(out_indices)

    def forward(self, x):
        feats = self.model.forward_intermediates(x, intermediates_only=True)
        return tuple(self.out_norms[str(i)](feats[i]).contiguous() for i in self.out_indices)


def timm_name_of(backbone_cls, names: dict, arch) -> str | None:
    """timm's model name for ``arch`` (a preset or an arch dict equal to one), from ``names``
    (mmvitx preset -> timm name), or None where timm has no such model."""
    resolved = backbone_cls.resolve_arch(arch)
    return next((names[k] for k in names if backbone_cls.resolve_arch(k) == resolved), None)


def _randomize_both(model, reference, seed):
    """Strong weights for the reference and for the mmvitx-only output norms."""
    strong_randomize_(reference, seed)
    strong_randomize_(model.out_norms if hasattr(model, 'out_norms') else nn.Module(), seed + 1)


def build_fastervit_pair(arch, size, seed=0, **model_kwargs):
    """The official fixed-resolution FasterViT (``faster_vit_*_224``'s model) built for the square
    ``size``, and mmvitx's FasterViT with ``pretrain_img_size`` = that size. At the sizes it takes
    (stage maps of window multiples) both of mmvitx's carrier-token modes compute what it
    computes; :func:`build_fastervit_any_res_pair` is the default mode's reference at any size."""
    from mmvitx.models.backbones.fastervit import FasterViT
    official = import_reference('fastervit.models.faster_vit', 'fastervit', 'fastervit')
    resolved = FasterViT.resolve_arch(arch)
    height, width = size
    windows = resolved['window_sizes']
    if height != width or height % 32 or any(
            (height >> (i + 2)) % windows[i] for i in (2, 3)):
        raise ReferenceUnavailable(
            f'FasterViT at {height}x{width}: the official FasterViT takes square inputs whose '
            f'stride-16 and stride-32 maps are multiples of its windows {windows[2:]} (for '
            f'windows of 7: multiples of 224); choose such a size, or an arch dict with other '
            f'window_sizes')
    for i in (2, 3):
        if resolved['carrier_tokens'][i] and (height >> (i + 2)) // windows[i] <= 1:
            raise ReferenceUnavailable(
                f'FasterViT at {height}x{width}: the stride-{4 << i} map holds a single window, '
                f'where the official FasterViT drops its carrier tokens and mmvitx keeps them; '
                f'choose a larger size or smaller window_sizes')
    reference = _official_fastervit(official, resolved, height)
    # The official model fixes its resolution at construction; mmvitx's position terms match it
    # with pretrain_img_size = the input size (no effect on the amount of computation).
    model = FasterViT(dict(resolved, pretrain_img_size=height), **model_kwargs)
    return _fastervit_pair(model, reference, seed, 'fastervit (official)')


def _official_fastervit(official, resolved: dict, resolution):
    """The official FasterViT (module ``official``) of an mmvitx arch, built for ``resolution``,
    without classifier or drop path."""
    with quiet_imports():
        return official.FasterViT(
            dim=resolved['embed_dims'], in_dim=resolved['stem_dims'],
            depths=list(resolved['depths']), window_size=list(resolved['window_sizes']),
            ct_size=resolved['ct_size'], mlp_ratio=resolved['mlp_ratio'],
            num_heads=list(resolved['num_heads']), resolution=resolution, drop_path_rate=0.,
            num_classes=0, layer_scale=resolved['layer_scale'], layer_scale_conv=None,
            hat=list(resolved['carrier_tokens']), do_propagation=resolved['propagation'])


def _fastervit_pair(model, reference, seed, name):
    """Strong weights for ``reference``, converted into ``model``; the pair as the builders
    return it."""
    _randomize_both(model, reference, seed)
    load_converted('fastervit', model, reference.state_dict())
    return model, FasterViTReference(reference, model.out_norms, model.out_indices), name


def _fastervit_stage_side(side: int, stage: int) -> int:
    """A side of FasterViT's stage-``stage`` map for an input side: the stem's two and each
    downsample's stride-2 convolutions (padding 1) round up."""
    for _ in range(stage + 2):
        side = -(-side // 2)
    return side


def build_fastervit_any_res_pair(arch, size, seed=0, **model_kwargs):
    """The official any-resolution FasterViT (``faster_vit_any_res``'s model) built for ``size``,
    and mmvitx's FasterViT in its default ``carrier_token_mode='any_res'``, any size the official
    model takes (non-square, not window multiples)."""
    from mmvitx.models.backbones.fastervit import FasterViT
    official = import_reference('fastervit.models.faster_vit_any_res', 'fastervit', 'fastervit')
    if model_kwargs.get('carrier_token_mode', 'any_res') != 'any_res':
        raise ReferenceUnavailable(
            "the official any-resolution FasterViT is the reference of carrier_token_mode="
            "'any_res'; the fixed-resolution one (build_fastervit_pair) is that of 'extrapolate' "
            "with pretrain_img_size = the input size")
    resolved = FasterViT.resolve_arch(arch)
    height, width = size
    windows = resolved['window_sizes']
    for i in (2, 3):
        if not resolved['carrier_tokens'][i]:
            continue
        window_grid = [-(-_fastervit_stage_side(side, i) // windows[i]) for side in size]
        # The official model sizes its carrier tokens at construction for maps of
        # int(side / stride), where the convolutions round up.
        if window_grid != [-(-(side >> (i + 2)) // windows[i]) for side in size]:
            raise ReferenceUnavailable(
                f'FasterViT at {height}x{width}: the official any-resolution model sizes its '
                f'stride-{4 << i} map as {height >> (i + 2)}x{width >> (i + 2)}, which is '
                f'padded to other window multiples than the actual map; choose multiples of 32')
        if window_grid == [1, 1]:
            raise ReferenceUnavailable(
                f'FasterViT at {height}x{width}: the stride-{4 << i} map is a single window, '
                f'where the official any-resolution model has no carrier-token weights (mmvitx has '
                f'them, unused at this size); choose a larger size')
    reference = _official_fastervit(official, resolved, [height, width])
    model = FasterViT(arch, **model_kwargs)
    return _fastervit_pair(model, reference, seed, 'fastervit any-res (official)')


def build_hrformer_pair(arch, size, seed=0, **model_kwargs):
    from mmvitx.models.backbones.hrformer import HRFormer
    module = import_reference('mmpose.models.backbones', 'mmpose', 'hrformer')
    model = HRFormer(arch, **model_kwargs)
    resolved = model.arch
    windows = resolved['window_size']
    windows = (windows, ) * 4 if isinstance(windows, int) else tuple(windows)
    extra = dict(drop_path_rate=0., stage1=dict(
        num_modules=1, num_branches=1, block='BOTTLENECK',
        num_blocks=(resolved['num_blocks'] * resolved['num_modules'][0], ), num_channels=(64, )))
    for stage in (2, 3, 4):
        extra[f'stage{stage}'] = dict(
            num_modules=resolved['num_modules'][stage - 1], num_branches=stage,
            block='HRFORMERBLOCK', num_blocks=(resolved['num_blocks'], ) * stage,
            num_channels=tuple(resolved['channels'][:stage]),
            num_heads=tuple(resolved['num_heads'][:stage]), window_sizes=windows[:stage],
            mlp_ratios=(resolved['mlp_ratio'], ) * stage)
    # mmpose's last module fuses every branch or (pose) only the highest-resolution one.
    extra['stage4']['multiscale_output'] = tuple(model.out_indices) != (0, )
    if tuple(model.out_indices) not in ((0, 1, 2, 3), (0, )):
        raise ReferenceUnavailable(f"mmpose's HRFormer outputs branches (0, 1, 2, 3) or (0, ), "
                                   f'not {model.out_indices}')
    with quiet_imports():
        reference = module.HRFormer(extra)
    _randomize_both(model, reference, seed)
    load_converted('hrformer', model, reference.state_dict())
    return model, MMPoseHRFormerReference(reference), 'mmpose HRFormer'


TIMM_MVIT = {'t': 'mvitv2_tiny', 's': 'mvitv2_small', 'b': 'mvitv2_base', 'l': 'mvitv2_large'}


def build_mvit_pair(arch, size, seed=0, **model_kwargs):
    from mmvitx.models.backbones.mvit import MViT
    timm = import_reference('timm', 'timm', 'mvit')
    name = timm_name_of(MViT, TIMM_MVIT, arch)
    if name is None:
        raise ReferenceUnavailable(
            f'timm implements MViTv2 {", ".join(TIMM_MVIT)} (as {", ".join(TIMM_MVIT.values())}); '
            f"arch {arch!r} has no timm counterpart (MViT v1 and timm's class-token MViTv2-H "
            f"differ from mmvitx's models)")
    height, width = size
    if height != width:
        raise ReferenceUnavailable(f"MViT at {height}x{width}: timm's MViTv2 takes square inputs "
                                   f'(its relative-position tables are built for one size)')
    with quiet_imports():
        reference = timm.create_model(name, img_size=(height, width), num_classes=0)
    # timm sizes its relative-position tables for the input; mmvitx for pretrain_img_size.
    model = MViT(arch, pretrain_img_size=height, **model_kwargs)
    _randomize_both(model, reference, seed)
    load_converted('mvit', model, reference.state_dict())  # timm's layout, converted
    return model, TimmMViTReference(reference, model.out_norms, model.out_indices), \
        f'timm {name}'


def _bicubic_resize_abs_pos(posemb, new_size, old_size=None, num_prefix_tokens=1, **_):
    """timm's ``resample_abs_pos_embed`` as detectron2 (ViTDet) and mmseg resize position tables,
    which mmvitx follows: torch's bicubic (no antialiasing) in the table's dtype. timm itself
    antialiases (PIL's bicubic kernel) and computes in float32, which alone would differ from
    mmvitx by more than float64 rounding; everything else of timm's forward is unchanged."""
    import torch.nn.functional as F
    prefix, grid = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    old_size = tuple(old_size)
    if tuple(new_size) != old_size:
        grid = grid.reshape(1, *old_size, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=tuple(new_size), mode='bicubic', align_corners=False)
        grid = grid.permute(0, 2, 3, 1).reshape(1, -1, posemb.shape[-1])
    return torch.cat([prefix, grid], dim=1)


@contextmanager
def _timm_position_resize_like_detectron2():
    from unittest import mock

    from timm.models import deit, vision_transformer
    with mock.patch.object(vision_transformer, 'resample_abs_pos_embed', _bicubic_resize_abs_pos), \
            mock.patch.object(deit, 'resample_abs_pos_embed', _bicubic_resize_abs_pos):
        yield


class TimmPlainViTReference(nn.Module):
    """timm's ViT/DeiT/CaiT patch tokens after the requested blocks (``forward_intermediates``,
    NCHW, prefix tokens removed); the last through timm's final norm where the mmvitx model has
    ``final_norm``, each through a copy of the mmvitx model's output norm where it has one."""

    def __init__(self, model: nn.Module, mmvitx_model: nn.Module):
        super().__init__()
        self.model = model
        self.out_indices = tuple(mmvitx_model.out_indices)
        self.final_norm = mmvitx_model.norm is not None
        self.out_norms = copy.deepcopy(mmvitx_model.out_norms)

    def forward(self, x):
        with _timm_position_resize_like_detectron2():
            feats = self.model.forward_intermediates(x, indices=list(self.out_indices),
                                                     intermediates_only=True, output_fmt='NCHW')
        outs = []
        for index, feat in zip(self.out_indices, feats):
            if self.final_norm and index == len(self.model.blocks) - 1:
                feat = self.model.norm(feat.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
            if str(index) in self.out_norms:
                feat = self.out_norms[str(index)](feat)
            outs.append(feat.contiguous())
        return tuple(outs)


TIMM_VIT = {'ti': 'vit_tiny_patch16_224', 's': 'vit_small_patch16_224',
            'b': 'vit_base_patch16_224', 'b-32': 'vit_base_patch32_224',
            'l': 'vit_large_patch16_224', 'l-32': 'vit_large_patch32_224',
            'h': 'vit_huge_patch14_224'}
TIMM_DEIT = {'t': 'deit_tiny_patch16_224', 's': 'deit_small_patch16_224',
             'b': 'deit_base_patch16_224', 'b-384': 'deit_base_patch16_384',
             't-distilled': 'deit_tiny_distilled_patch16_224',
             's-distilled': 'deit_small_distilled_patch16_224',
             'b-distilled': 'deit_base_distilled_patch16_224',
             'b-distilled-384': 'deit_base_distilled_patch16_384'}
TIMM_CAIT = {'xxs24': 'cait_xxs24_224', 'xxs24-384': 'cait_xxs24_384', 'xxs36': 'cait_xxs36_224',
             'xxs36-384': 'cait_xxs36_384', 'xs24-384': 'cait_xs24_384', 's24': 'cait_s24_224',
             's24-384': 'cait_s24_384', 's36-384': 'cait_s36_384', 'm36-384': 'cait_m36_384',
             'm48-448': 'cait_m48_448'}


def _timm_plain_vit(timm, cls, arch, names, timm_kwargs):
    """timm's model of a preset (by name), or of a custom arch dict (timm's class built with its
    hyperparameters), and its name."""
    resolved = cls.resolve_arch(arch)
    name = timm_name_of(cls, names, arch)
    if name is not None:
        return timm.create_model(name, num_classes=0, **timm_kwargs), f'timm {name}'
    kwargs = dict(img_size=resolved['pretrain_img_size'], patch_size=resolved['patch_size'],
                  embed_dim=resolved['embed_dims'], depth=resolved['depth'],
                  num_heads=resolved['num_heads'], mlp_ratio=resolved['mlp_ratio'],
                  qkv_bias=resolved['qkv_bias'], num_classes=0)
    kwargs.update(timm_kwargs)
    if cls.family == 'cait':
        model = timm.models.cait.Cait(init_values=resolved['layer_scale'], **kwargs)
    elif resolved['dist_token']:
        model = timm.models.deit.VisionTransformerDistilled(**kwargs)
    else:
        model = timm.models.vision_transformer.VisionTransformer(**kwargs)
    return model, f'timm {type(model).__name__} ({arch})'


def _plain_vit_pair(cls, arch, seed, timm_kwargs, model_kwargs, names):
    timm = import_reference('timm', 'timm', cls.family)
    with quiet_imports():
        reference, name = _timm_plain_vit(timm, cls, arch, names, timm_kwargs)
    model = cls(arch, **model_kwargs)
    _randomize_both(model, reference, seed)
    load_converted(cls.family, model, reference.state_dict())
    return model, TimmPlainViTReference(reference, model), name


def build_vit_pair(arch, size, seed=0, **model_kwargs):
    """timm's ViT (a preset's ``vit_*``, or timm's class with a custom arch's hyperparameters)
    with ``dynamic_img_size`` (any size; its position table is resized as mmvitx resizes it, see
    :func:`_bicubic_resize_abs_pos`) and mmvitx's ViT. Sizes are multiples of the patch: timm
    crops the rest (mmvitx pads). With ViTDet's options (``window_size``, ``use_rel_pos``), see
    :func:`build_vitdet_pair`."""
    from mmvitx.models.backbones.vit import ViT
    _check_patch_multiple(ViT, arch, size)
    if model_kwargs.get('window_size') or model_kwargs.get('use_rel_pos'):
        return build_vitdet_pair(arch, size, seed, **model_kwargs)
    return _plain_vit_pair(ViT, arch, seed, dict(dynamic_img_size=True), model_kwargs, TIMM_VIT)


TIMM_CONVIT = {'ti': 'convit_tiny', 's': 'convit_small', 'b': 'convit_base'}


def build_convit_pair(arch, size, seed=0, **model_kwargs):
    """timm's ConViT (``convit_*``, or timm's class with a custom arch's hyperparameters), built
    for the square input ``size`` (its GPSA offsets assume a square grid of its ``img_size``), and
    mmvitx's ConViT with ``pretrain_img_size`` of that size."""
    from mmvitx.models.backbones.vit import ConViT
    _check_patch_multiple(ConViT, arch, size)
    if size[0] != size[1]:
        raise ReferenceUnavailable(f'timm\'s ConViT takes square inputs only, not '
                                   f'{size[0]}x{size[1]}')
    timm = import_reference('timm', 'timm', 'convit')
    resolved = ConViT.resolve_arch(arch)
    name = timm_name_of(ConViT, TIMM_CONVIT, arch)
    with quiet_imports():
        if name is not None:
            reference = timm.create_model(name, img_size=size[0], num_classes=0)
        else:
            reference = timm.models.convit.ConVit(
                img_size=size[0], patch_size=resolved['patch_size'],
                # timm's ConVit takes the width per head
                embed_dim=resolved['embed_dims'] // resolved['num_heads'],
                depth=resolved['depth'], num_heads=resolved['num_heads'],
                mlp_ratio=resolved['mlp_ratio'], qkv_bias=resolved['qkv_bias'],
                local_up_to_layer=resolved['gpsa_blocks'],
                locality_strength=resolved['locality_strength'], num_classes=0)
            name = f'ConVit ({arch})'
    model = ConViT(arch, **dict(model_kwargs, pretrain_img_size=size[0]))
    _randomize_both(model, reference, seed)
    load_converted('convit', model, reference.state_dict())
    return model, TimmPlainViTReference(reference, model), f'timm {name}'


TIMM_SAM = {'b': 'samvit_base_patch16', 'l': 'samvit_large_patch16'}


class TimmSamReference(nn.Module):
    """timm's SAM image encoder's block outputs (``forward_intermediates``, NCHW; its neck is
    not run) at the mmvitx model's ``out_indices``."""

    def __init__(self, model: nn.Module, mmvitx_model: nn.Module):
        super().__init__()
        self.model = model
        self.out_indices = list(mmvitx_model.out_indices)

    def forward(self, x):
        feats = self.model.forward_intermediates(x, indices=self.out_indices,
                                                 intermediates_only=True, output_fmt='NCHW')
        return tuple(feat.contiguous() for feat in feats)


def build_vitdet_pair(arch, size, seed=0, **model_kwargs):
    """ViTDet's windowed ViT (``with_cls_token=False``, windows with the last block of each
    quarter global, decomposed relative positions) against timm's SAM image encoder
    (``samvit_base_patch16``, ``samvit_large_patch16``, or timm's class with a custom arch's
    hyperparameters), which is that backbone: SAM's encoder is ViTDet's. timm's model is built
    for the square input ``size`` (its position table and global relative-position tables at that
    grid), mmvitx's with ``pretrain_img_size`` of that size; the weights go through mmvitx's ViT
    converter (SAM's layout)."""
    from functools import partial

    from mmvitx.models.backbones.vit import ViT, vitdet_global_blocks
    timm = import_reference('timm', 'timm', 'vit')
    resolved = ViT.resolve_arch(arch)
    name = next((TIMM_SAM[key] for key in TIMM_SAM if ViT.resolve_arch(key) == resolved), None)
    window = model_kwargs.get('window_size')
    side = size[0]
    if (not window or not model_kwargs.get('use_rel_pos')
            or model_kwargs.get('with_cls_token', True) or size[0] != size[1]
            or model_kwargs.get('global_blocks') is not None
            or model_kwargs.get('pretrain_img_size', side) != side
            or model_kwargs.get('rel_pos_img_size') not in (None, side)
            or (name is not None and window != 14)):
        raise ReferenceUnavailable(
            'the windowed ViT reference is timm\'s SAM encoder: with_cls_token=False, a '
            'window_size (14 for the SAM presets b and l), use_rel_pos=True, the default global '
            'blocks, square inputs and pretrain_img_size the input size; got arch '
            f'{arch!r}, {size[0]}x{size[1]}, {model_kwargs}')
    with quiet_imports():
        if name is not None:
            reference = timm.create_model(name, img_size=side, num_classes=0)
        else:
            sam = timm.models.vision_transformer_sam
            reference = sam.VisionTransformerSAM(
                img_size=side, patch_size=resolved['patch_size'],
                embed_dim=resolved['embed_dims'], depth=resolved['depth'],
                num_heads=resolved['num_heads'], mlp_ratio=resolved['mlp_ratio'],
                qkv_bias=resolved['qkv_bias'], norm_layer=partial(nn.LayerNorm, eps=1e-6),
                use_rel_pos=True, window_size=window,
                global_attn_indexes=vitdet_global_blocks(resolved['depth']), num_classes=0)
            name = f'VisionTransformerSAM ({arch})'
    model = ViT(arch, **dict(model_kwargs, pretrain_img_size=side))
    _randomize_both(model, reference, seed)
    load_converted('vit', model, reference.state_dict())
    return model, TimmSamReference(reference, model), f'timm {name} (SAM encoder)'


def build_deit_pair(arch, size, seed=0, **model_kwargs):
    """timm's DeiT (distilled too) with ``dynamic_img_size`` and mmvitx's DeiT; as
    :func:`build_vit_pair`."""
    from mmvitx.models.backbones.vit import DeiT
    _check_patch_multiple(DeiT, arch, size)
    return _plain_vit_pair(DeiT, arch, seed, dict(dynamic_img_size=True), model_kwargs, TIMM_DEIT)


def build_cait_pair(arch, size, seed=0, **model_kwargs):
    """timm's CaiT built for ``size`` (it takes one input size, any (H, W) multiple of the patch)
    and mmvitx's CaiT with ``pretrain_img_size=size``: the same position table, used as it is."""
    from mmvitx.models.backbones.vit import CaiT
    _check_patch_multiple(CaiT, arch, size)
    model_kwargs = dict(model_kwargs, pretrain_img_size=tuple(size))
    return _plain_vit_pair(CaiT, arch, seed, dict(img_size=tuple(size)), model_kwargs, TIMM_CAIT)


TIMM_TNT = {'s': 'tnt_s_patch16_224', 's-legacy': 'tnt_s_legacy_patch16_224',
            'b': 'tnt_b_patch16_224'}


def build_tnt_pair(arch, size, seed=0, **model_kwargs):
    """timm's TNT (``tnt_*``, or timm's class with a custom arch's hyperparameters) built for
    ``size`` (it takes one input size, any (H, W) multiple of the patch) and mmvitx's TNT with
    ``pretrain_img_size=size``: the same outer position table, used as it is. timm's TNT always
    has its class token and no windows or relative positions."""
    from mmvitx.models.backbones.tnt import TNT
    _check_patch_multiple(TNT, arch, size)
    if (model_kwargs.get('window_size') or model_kwargs.get('use_rel_pos')
            or not model_kwargs.get('with_cls_token', True)):
        raise ReferenceUnavailable(f'timm\'s TNT keeps its class token and attends globally: no '
                                   f'window_size, use_rel_pos or with_cls_token=False, got '
                                   f'{model_kwargs}')
    timm = import_reference('timm', 'timm', 'tnt')
    resolved = TNT.resolve_arch(arch)
    name = timm_name_of(TNT, TIMM_TNT, arch)
    with quiet_imports():
        if name is not None:
            reference = timm.create_model(name, img_size=tuple(size), num_classes=0)
        else:
            if resolved['mlp_ratio'] != 4:
                raise ReferenceUnavailable('timm\'s TNT fixes the inner MLP ratio at 4 (the '
                                           f'official code takes mlp_ratio), got {arch}')
            reference = timm.models.tnt.TNT(
                img_size=tuple(size), patch_size=resolved['patch_size'],
                embed_dim=resolved['embed_dims'], inner_dim=resolved['inner_dims'],
                depth=resolved['depth'], num_heads_inner=resolved['inner_heads'],
                num_heads_outer=resolved['num_heads'], mlp_ratio=resolved['mlp_ratio'],
                qkv_bias=resolved['qkv_bias'], first_stride=resolved['inner_stride'],
                legacy=resolved['legacy'], num_classes=0)
            name = f'TNT ({arch})'
    model = TNT(arch, **dict(model_kwargs, pretrain_img_size=tuple(size)))
    _randomize_both(model, reference, seed)
    load_converted('tnt', model, reference.state_dict())
    return model, TimmPlainViTReference(reference, model), f'timm {name}'


def _check_patch_multiple(cls, arch, size):
    patch = cls.resolve_arch(arch)['patch_size']
    if any(side % patch for side in size):
        raise ReferenceUnavailable(
            f'{cls.__name__} at {size[0]}x{size[1]}: timm crops an input that is not a multiple '
            f'of the patch ({patch}), mmvitx zero-pads it; choose multiples of {patch}')


TIMM_CROSSVIT = {'ti': 'crossvit_tiny_240', 's': 'crossvit_small_240', 'b': 'crossvit_base_240',
                 '9': 'crossvit_9_240', '15': 'crossvit_15_240', '18': 'crossvit_18_240',
                 '9-dagger': 'crossvit_9_dagger_240', '15-dagger': 'crossvit_15_dagger_240',
                 '18-dagger': 'crossvit_18_dagger_240', '15-dagger-408': 'crossvit_15_dagger_408',
                 '18-dagger-408': 'crossvit_18_dagger_408'}


class TimmCrossViTReference(nn.Module):
    """timm's CrossViT patch tokens of the mmvitx model's ``out_indices`` branches (NCHW), after
    timm's final norms where the mmvitx model has ``final_norm`` (the builder makes them identities
    otherwise), each through a copy of its output norm where it has one.

    ``native``: timm was built for the input size, which it then takes as it is: its
    ``forward_features``. Otherwise timm's modules run on the dense backbone's branch images: the
    input zero-padded to a multiple of 12, and the input resized by timm's ``scale_image``
    (bicubic) to the nearest pixel of the pretraining ratio, then zero-padded to a multiple of 16;
    the position tables resized to the branches' grids as mmvitx resizes them (torch's bicubic,
    :func:`_bicubic_resize_abs_pos`). timm itself takes one input size and crops to the patch."""

    def __init__(self, model: nn.Module, mmvitx_model: nn.Module, native: bool):
        super().__init__()
        self.model = model
        self.native = native
        self.out_indices = tuple(mmvitx_model.out_indices)
        self.out_norms = copy.deepcopy(mmvitx_model.out_norms)
        self.patch_sizes = mmvitx_model.arch['patch_sizes']
        self.pretrain_img_sizes = mmvitx_model.arch['pretrain_img_sizes']

    def _dense_branch_tokens(self, x):
        import torch.nn.functional as F
        from timm.models.crossvit import scale_image
        small, large = self.pretrain_img_sizes
        xs, grids = [], []
        for branch, patch in enumerate(self.patch_sizes):
            image = x
            if branch:
                image = scale_image(x, tuple((side * large + small // 2) // small
                                             for side in x.shape[-2:]))
            image = F.pad(image, (0, -image.shape[-1] % patch, 0, -image.shape[-2] % patch))
            # the stem's convolutions without PatchEmbed's check of timm's one input size
            tokens = self.model.patch_embed[branch].proj(image)
            grids.append(tuple(tokens.shape[-2:]))
            pos = getattr(self.model, f'pos_embed_{branch}')
            table_grid = [side // patch for side in self.model.img_size_scaled[branch]]
            pos = _bicubic_resize_abs_pos(pos, grids[-1], table_grid, num_prefix_tokens=1)
            cls_token = getattr(self.model, f'cls_token_{branch}').expand(x.shape[0], -1, -1)
            xs.append(torch.cat([cls_token, tokens.flatten(2).transpose(1, 2)], dim=1) + pos)
        for block in self.model.blocks:
            xs = block(xs)
        return [norm(tokens) for norm, tokens in zip(self.model.norm, xs)], grids

    def forward(self, x):
        if self.native:
            feats = self.model.forward_features(x)
            grids = [[side // patch for side in size]
                     for size, patch in zip(self.model.img_size_scaled, self.patch_sizes)]
        else:
            feats, grids = self._dense_branch_tokens(x)
        outs = []
        for branch in self.out_indices:
            out = feats[branch][:, 1:].transpose(1, 2).reshape(x.shape[0], -1, *grids[branch])
            if str(branch) in self.out_norms:
                out = self.out_norms[str(branch)](out)
            outs.append(out.contiguous())
        return tuple(outs)


def build_crossvit_pair(arch, size, seed=0, **model_kwargs):
    """timm's CrossViT (a preset's ``crossvit_*``, or timm's class with a custom arch's
    hyperparameters) and mmvitx's. Where timm takes the input as the dense backbone does (sides
    multiples of 12 whose L-branch sizes, timm's ``int(side * ratio)``, are the nearest pixel and
    multiples of 16: 240, 360, 240x360 at 224 / 240), timm is built for that size (``img_size``)
    and mmvitx with ``pretrain_img_size`` of it: the same tables, and timm's own forward. At other
    sizes timm is built at its pretraining size and runs on the dense backbone's branch images
    (:class:`TimmCrossViTReference`)."""
    from mmvitx.models.backbones.crossvit import CrossViT
    timm = import_reference('timm', 'timm', 'crossvit')
    resolved = CrossViT.resolve_arch(arch)
    if len(resolved['embed_dims']) != 2:
        raise ReferenceUnavailable(f'timm\'s CrossViT has two branches, arch {arch!r} has '
                                   f'{len(resolved["embed_dims"])}')
    small, large = resolved['pretrain_img_sizes']
    ratio = large / small
    patches = resolved['patch_sizes']
    native = 'pretrain_img_size' not in model_kwargs and all(
        side % patches[0] == 0 and int(side * ratio) % patches[1] == 0
        and int(side * ratio) == (side * large + small // 2) // small for side in size)
    img_size = tuple(size) if native else model_kwargs.get('pretrain_img_size', small)
    name = timm_name_of(CrossViT, TIMM_CROSSVIT, arch)
    with quiet_imports():
        if name is not None:
            reference = timm.create_model(name, img_size=img_size, num_classes=0)
        else:
            reference = timm.models.crossvit.CrossVit(
                img_size=img_size, img_scale=(1.0, ratio), patch_size=list(patches),
                embed_dim=list(resolved['embed_dims']),
                depth=[[*resolved['depths'], 0]] * resolved['num_encoders'],
                num_heads=list(resolved['num_heads']),
                mlp_ratio=[*resolved['mlp_ratio'], 1], multi_conv=resolved['conv_stem'],
                num_classes=0)
            name = f'CrossVit ({arch})'
    if native and img_size != (small, small):
        model_kwargs = dict(model_kwargs, pretrain_img_size=img_size)
    model = CrossViT(arch, **model_kwargs)
    if not len(model.norm):  # mmvitx outputs the tokens before the final norms
        reference.norm = nn.ModuleList(nn.Identity() for _ in reference.norm)
    _randomize_both(model, reference, seed)
    load_converted('crossvit', model, reference.state_dict())
    return model, TimmCrossViTReference(reference, model, native), f'timm {name}'
