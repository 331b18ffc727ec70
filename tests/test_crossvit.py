"""CrossViT (models/backbones/crossvit.py): timm equality at the official 240 input and at other
sizes (non-square, the dagger stem, the dense padding and resizing, the final norms), a training
step against timm, the converter's two source layouts and every preset's timm weights, the
positions of drop path and layer decay, the layers left out (the last fusion, a branch not
output), and the L-branch's image size. The generic checks (counts, sizes, gradients, freezing,
reference at 224, ONNX) are in tests/test_backbones.py and tests/test_onnx.py; the neck in
tests/test_necks.py."""
import pytest
import torch

from mmvitx.models.backbones import CrossViT
from mmvitx.models.backbones.crossvit import convert_crossvit
from mmvitx.models.layers import plain_ops
from mmvitx.models.pretrained import key_matcher, preset_fits
from mmvitx.testing.references import (TIMM_CROSSVIT, build_crossvit_pair, build_float64_pair,
                                       strong_randomize_)
from spec_params import crossvit_backbone_params, crossvit_params
from training_step import assert_training_step_matches

timm = pytest.importorskip('timm')

# A small custom arch where a preset adds nothing but time (timm's class with the same
# hyperparameters is the reference): the dagger stem, two encoders.
SMALL_DAGGER = dict(embed_dims=(32, 64), depths=(1, 2), num_heads=2, mlp_ratio=3,
                    num_encoders=2, conv_stem=True)


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def assert_equal_outputs(model, reference, size, batch=1, plain_modes=(False, )):
    x = torch.randn(batch, 3, *size, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(0))
    for plain in plain_modes:
        with torch.no_grad(), plain_ops(plain):
            actual, expected = model(x), reference(x)
        assert len(actual) == len(expected) == len(model.out_indices)
        for a, e, hw, b in zip(actual, expected, model.out_sizes(*size), model.out_indices):
            assert a.shape == e.shape == (batch, model.num_features[b], *hw)
            assert e.std() > 0.1
            assert float((a - e).abs().max()) <= 1e-9 * max(1., float(e.abs().max()))


@pytest.mark.parametrize('arch, size', [
    ('ti', (240, 240)),  # the official input: timm's forward as it is
    ('ti', (240, 360)),  # timm built for a non-square size (its img_size), the same tables
    ('9-dagger', (240, 240)),  # the dagger stem of the official weights
    ('9-dagger', (360, 240)),
], ids=['ti-240', 'ti-240x360', '9-dagger-240', '9-dagger-360x240'])
def test_outputs_equal_timm_where_timm_takes_the_input(arch, size):
    model, reference = build_float64_pair(build_crossvit_pair, arch, size)
    assert reference.native
    assert_equal_outputs(model, reference, size)


def test_dense_input_final_norms_and_one_branch_equal_timm():
    """An odd size (both branches padded, the L-branch resized to the nearest pixel, both tables
    resized), the release's final norms, output norms, the L-branch alone; with the speed-up layer
    and the plain ops."""
    options = dict(final_norm=True, out_norm_cfg=dict(type='LN2d', eps=1e-6))
    for out_indices, size in (((0, 1), (97, 131)), ((1, ), (131, 50))):
        model, reference = build_float64_pair(build_crossvit_pair, SMALL_DAGGER, size,
                                              out_indices=out_indices, **options)
        assert not reference.native
        assert_equal_outputs(model, reference, size, batch=2, plain_modes=(False, True))


def test_training_step_matches_timm():
    """Same gradients as timm's CrossVit after a training step (the MLPs and projections keep
    only their GELU inputs; the cross-attention runs through SDPA)."""
    model, reference, _ = build_crossvit_pair(SMALL_DAGGER, (120, 120), final_norm=True)
    x = torch.randn(2, 3, 120, 120, generator=torch.Generator().manual_seed(1))
    # timm's last fusion gets zero gradients (through its class tokens, which no output reads)
    not_built = key_matcher(model.keys_not_built())
    assert_training_step_matches(
        model, reference.model,
        lambda state: {k: v for k, v in convert_crossvit(state).items() if not not_built.match(k)},
        lambda m, t: [out.flatten(2).transpose(1, 2) for out in m(t)],
        lambda m, t: [tokens[:, 1:] for tokens in m.forward_features(t)], x)


def test_converter_takes_the_official_and_timm_layouts():
    with torch.device('meta'):
        reference = timm.create_model('crossvit_9_dagger_240', num_classes=1000)
    timm_state = reference.state_dict()
    # the official files hold the tokens and tables in ParameterLists: pos_embed.0, cls_token.1
    official = {key.replace('pos_embed_', 'pos_embed.').replace('cls_token_', 'cls_token.'): value
                for key, value in timm_state.items()}
    assert 'pos_embed.0' in official and 'head.1.weight' in official
    converted = convert_crossvit(timm_state)
    assert list(converted) == list(convert_crossvit(official))
    assert not any(key.startswith('head.') for key in converted)
    assert converted['encoders.0.fusions.1.attn.wq.weight'] is timm_state[
        'blocks.0.fusion.1.attn.wq.weight']
    assert converted['encoders.1.fusions.0.project.fc.weight'] is timm_state[
        'blocks.1.projs.0.2.weight']
    assert converted['encoders.1.fusions.0.project_back.norm.bias'] is timm_state[
        'blocks.1.revert_projs.0.0.bias']
    assert converted['encoders.2.blocks.1.2.mlp.fc1.weight'] is timm_state[
        'blocks.2.blocks.1.2.mlp.fc1.weight']
    assert list(convert_crossvit(converted)) == list(converted)  # idempotent


@pytest.mark.parametrize('arch', ['ti', '9-dagger', '15-dagger-408'])
def test_converted_timm_presets_fit(arch):
    """timm's model of a preset (on the meta device; one per kind of stem and pretraining size),
    converted, has exactly the weights and shapes of the preset with its final norms, and of the
    last fusion it does not build; the converter tool finds the preset. Its count without head
    is the spec's arithmetic."""
    assert set(TIMM_CROSSVIT) == set(CrossViT.arch_zoo)
    name = TIMM_CROSSVIT[arch]
    with torch.device('meta'):
        reference = timm.create_model(name, num_classes=0)
        model = CrossViT(arch, final_norm=True)
    assert num_params(reference) == crossvit_params(arch), name
    converted = convert_crossvit(reference.state_dict())
    last_fusion = key_matcher(model.keys_not_built())
    assert {k: v.shape for k, v in converted.items() if not last_fusion.match(k)} == {
        k: v.shape for k, v in model.state_dict().items()}, name
    label, fit = preset_fits(CrossViT, converted)[0]
    assert fit.fits and label == repr(arch), (name, label)
    assert CrossViT.pretrain_img_size_of(converted) == (408 if '408' in arch else 240)


def test_layers_left_out():
    """The last encoder's fusion (it updates only the class tokens, after the last blocks) and,
    for a single output, the other branch's last blocks are not built, and not loaded."""
    with torch.device('meta'):
        both = CrossViT('15-dagger')
        small_only = CrossViT('15-dagger', out_indices=(0, ))
    assert both.encoders[2].fusions is None and both.encoders[1].fusions is not None
    assert len(small_only.encoders[2].blocks[1]) == 0 and len(small_only.encoders[1].blocks[1]) == 5
    # an L-branch block: 2 LayerNorms, qkv, projection, MLP x3 (width 384)
    l_block = 4 * 384 + (384 * 3 * 384 + 3 * 384) + (384 * 384 + 384) + 2 * 384 * 1152 + 1152 + 384
    assert num_params(small_only) == crossvit_backbone_params('15-dagger') - 5 * l_block
    not_built = key_matcher(small_only.keys_not_built())
    assert not_built.match('encoders.2.fusions.0.attn.wq.weight')
    assert not_built.match('encoders.2.blocks.1.4.mlp.fc1.weight')
    assert not_built.match('norm.0.weight') and not_built.match('norm.1.bias')
    assert not not_built.match('encoders.2.blocks.0.0.norm1.weight')
    assert not not_built.match('encoders.1.fusions.1.project.fc.weight')


def test_drop_path_and_layer_decay_positions():
    """Drop path as timm assigns it (linear over the deeper branch's positions; block j of either
    branch at its position, each fusion at its encoder's last); the layers of layer-wise lr decay
    follow the same positions."""
    with torch.device('meta'):
        model = CrossViT('15', drop_path_rate=0.3)
        reference = timm.create_model('crossvit_15_240', num_classes=0, drop_path_rate=0.3)
    for k, encoder in enumerate(model.encoders):
        for b, blocks in enumerate(encoder.blocks):
            for j, block in enumerate(blocks):
                timm_rate = getattr(reference.blocks[k].blocks[b][j].drop_path1, 'drop_prob', 0.)
                assert getattr(block.drop_path, 'drop_prob', 0.) == pytest.approx(timm_rate)
        for b, fusion in enumerate(encoder.fusions or ()):
            timm_rate = reference.blocks[k].fusion[b].drop_path.drop_prob
            assert fusion.drop_path.drop_prob == pytest.approx(timm_rate)
    assert model.num_layers == 15
    layers = {name: model.layer_id(name) for name in (
        'patch_embed.1.proj.weight', 'cls_token.0', 'pos_embed.1',
        'encoders.0.blocks.0.0.attn.qkv.weight', 'encoders.0.blocks.1.0.norm1.weight',
        'encoders.0.blocks.1.4.mlp.fc2.bias', 'encoders.0.fusions.0.attn.wk.weight',
        'encoders.1.blocks.1.2.norm2.weight', 'encoders.2.blocks.1.4.mlp.fc2.weight')}
    assert list(layers.values()) == [0, 0, 0, 1, 1, 5, 5, 8, 15]
    with torch.device('meta'):
        normed = CrossViT('15', final_norm=True)
    assert {normed.layer_id(name) for name, _ in normed.named_parameters()
            if name.startswith('norm.')} == {16}


def test_l_branch_image_is_the_input_at_the_pretraining_ratio():
    model = CrossViT('ti')
    assert model._branch_image_size(240, 360, 1) == (224, 336)
    assert model._branch_image_size(250, 97, 1) == (233, 91)  # 233.3, 90.5(3): the nearest
    assert model._branch_image_size(1, 1, 1) == (1, 1)
    assert model.out_sizes(250, 97) == [(21, 9), (15, 6)]
    assert model.branch_strides == (12, 16 * 240 / 224)
    with torch.device('meta'):
        large = CrossViT('15-dagger-408')
    assert large._branch_image_size(408, 408, 1) == (384, 384)
    assert [tuple(t.shape[1:]) for t in large.pos_embed] == [(1 + 34**2, 192), (1 + 24**2, 384)]
    assert large.branch_strides == (12, 17)


def test_bad_archs_say_what_is_valid():
    with pytest.raises(ValueError, match='one value per branch'):
        CrossViT(dict(SMALL_DAGGER, depths=(1, 2, 3)))
    with pytest.raises(ValueError, match='divisible by num_heads'):
        CrossViT(dict(SMALL_DAGGER, num_heads=(3, 2)))
    with pytest.raises(ValueError, match=r'conv_stem .* takes patch sizes \[12, 16\]'):
        CrossViT(dict(SMALL_DAGGER, patch_sizes=(8, 16)))
    with pytest.raises(ValueError, match='out_indices must be branch indices'):
        CrossViT('ti', out_indices=(2, ))


def test_class_tokens_carry_the_other_branch():
    """The fusions are the only path between the branches: the S-branch's output follows the
    L-branch's input through them, and not without them."""
    torch.manual_seed(0)
    model = strong_randomize_(CrossViT(SMALL_DAGGER)).eval()
    x = torch.randn(1, 3, 48, 48)
    with torch.no_grad():
        before = model(x)[0]
        model.pos_embed[1].add_(1.)  # the L-branch alone changes
        assert not torch.allclose(model(x)[0], before)
        fusion = model.encoders[0].fusions[0]  # the S-branch's class token from the L-branch
        fusion.project_back.fc.weight.zero_()
        fusion.project_back.fc.bias.zero_()
        cut = model(x)[0]
        model.pos_embed[1].add_(1.)
        torch.testing.assert_close(model(x)[0], cut, rtol=0, atol=0)
