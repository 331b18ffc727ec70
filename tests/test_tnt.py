"""TNT (models/backbones/tnt.py): timm equality in float64 (outputs at 224 and non-square sizes,
and a training step's gradients) for the current and the legacy structure, the official release's
layout through the converter, every preset's timm weights fitting, what tells the two stems apart
(a word sees its own patch only, or across the border) and where ViTDet's options go. The generic
checks (counts, sizes, gradients, freezing, the 's' preset against timm at 224) are in
tests/test_backbones.py."""
import re

import pytest
import torch
import torch.nn.functional as F

from mmvitx.models.backbones import TNT
from mmvitx.models.backbones.tnt import convert_tnt
from mmvitx.models.layers import plain_ops
from mmvitx.testing.references import (build_float64_pair, build_tnt_pair, load_converted,
                                       strong_randomize_)

# A small arch of the presets' structure (16 x 16 patches of 4 x 4 words, 4 inner heads).
SMALL = dict(embed_dims=48, depth=3, num_heads=3, inner_dims=16)
SMALL_LEGACY = dict(SMALL, legacy=True)


def assert_outputs_equal(model, reference, size, batch=2):
    x = torch.randn(batch, 3, *size, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(0))
    for plain in (False, True):
        with torch.no_grad(), plain_ops(plain):
            actual, expected = model(x), reference(x)
        assert len(actual) == len(expected) == len(model.out_indices)
        for a, e in zip(actual, expected):
            assert a.shape == e.shape == (batch, model.num_features[0], size[0] // 16,
                                          size[1] // 16)
            assert e.std() > 0.1
            assert float((a - e).abs().max()) <= 1e-9 * max(1., float(e.abs().max()))


@pytest.mark.parametrize('arch, size, kwargs', [
    (SMALL, (96, 160), {}),
    (SMALL, (128, 80), dict(out_indices=(0, 2), final_norm=True,
                            out_norm_cfg=dict(type='LN2d', eps=1e-6))),
    (SMALL_LEGACY, (224, 224), {}),
    (SMALL_LEGACY, (96, 160), dict(out_indices=(1, 2))),
], ids=['nonsquare', 'options', 'legacy-224', 'legacy-nonsquare'])
def test_outputs_equal_timm(arch, size, kwargs):
    model, reference = build_float64_pair(build_tnt_pair, arch, size, **kwargs)
    assert_outputs_equal(model, reference, size)


@pytest.mark.parametrize('arch', [SMALL, SMALL_LEGACY], ids=['current', 'legacy'])
def test_training_step_gradients_equal_timm(arch):
    """One training step (no drop path) gives timm's gradients, through the converter's mapping:
    each ``qkv`` gradient is timm's ``qk`` and ``v`` gradients stacked."""
    model, reference = build_float64_pair(build_tnt_pair, arch, (64, 96))
    x = torch.randn(2, 3, 64, 96, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for module in (model, reference):
        module.train()
        sum(F.adaptive_avg_pool2d(o, 1).square().sum() for o in module(x)).backward()
    grads = convert_tnt({name: p.grad for name, p in reference.model.named_parameters()
                         if p.grad is not None})
    own = {name: p.grad for name, p in model.named_parameters()}
    assert set(grads) == set(own) and len(own) > 50
    for name, grad in own.items():
        scale = max(1., float(grads[name].abs().max()))
        assert float((grad - grads[name]).abs().max()) <= 1e-9 * scale, name


# The official module names (huawei-noah/Efficient-AI-Backbones tnt_pytorch/tnt.py), from timm's
# renamed ones.
OFFICIAL_TOP = {'pixel_embed': 'patch_embed', 'pixel_pos': 'inner_pos', 'patch_pos': 'outer_pos',
                'norm1_proj': 'proj_norm1', 'norm2_proj': 'proj_norm2'}
OFFICIAL_BLOCK = {'norm_in': 'inner_norm1', 'attn_in': 'inner_attn', 'norm_mlp_in': 'inner_norm2',
                  'mlp_in': 'inner_mlp', 'norm1_proj': 'proj_norm1', 'norm2_proj': 'proj_norm2',
                  'norm_out': 'outer_norm1', 'attn_out': 'outer_attn', 'norm_mlp': 'outer_norm2',
                  'mlp': 'outer_mlp'}


def official_layout(timm_state, dims, num_patches):
    """timm's TNT state dict in the official names and shapes: ``inner_pos`` (1, 16, c) where
    timm has ``pixel_pos`` (1, c, 4, 4), plus the unused frozen ``outer_tokens`` and a head."""
    official = {}
    for key, value in timm_state.items():
        block = re.match(r'(blocks\.\d+)\.([a-z_0-9]+)\.(.+)$', key)
        if block:
            name = f'{block[1]}.{OFFICIAL_BLOCK.get(block[2], block[2])}.{block[3]}'
        else:
            first, _, rest = key.partition('.')
            name = '.'.join(filter(None, (OFFICIAL_TOP.get(first, first), rest)))
        if name == 'inner_pos':
            value = value.flatten(2).transpose(1, 2)
        official[name] = value
    official['outer_tokens'] = torch.zeros(1, num_patches, dims, dtype=torch.float64)
    official['head.weight'] = torch.zeros(1000, dims, dtype=torch.float64)
    official['head.bias'] = torch.zeros(1000, dtype=torch.float64)
    return official


def test_official_layout_converts_to_the_same_model():
    model, reference = build_float64_pair(build_tnt_pair, SMALL, (96, 160))
    official = official_layout(reference.model.state_dict(), SMALL['embed_dims'], 6 * 10)
    assert {'inner_pos', 'outer_pos', 'proj_norm1.weight', 'blocks.0.inner_attn.qk.weight',
            'blocks.0.outer_mlp.fc1.weight', 'blocks.2.proj.weight'} <= set(official)
    assert official['inner_pos'].shape == (1, 16, SMALL['inner_dims'])
    converted = convert_tnt(official)
    assert list(converted) == list(convert_tnt(reference.model.state_dict()))
    fresh = strong_randomize_(TNT(SMALL, pretrain_img_size=(96, 160)).double(), seed=5).eval()
    load_converted('tnt', fresh, official)  # every weight mapped
    assert_outputs_equal(fresh, reference, (96, 160))


@pytest.mark.parametrize('legacy', [False, True], ids=['current', 'legacy'])
def test_words_see_their_own_patch_only_in_the_current_stem(legacy):
    """The current stem convolves each patch on its own (zero padding at the patch border): a
    pixel changes its own patch's words only. The legacy stem convolves the whole image, so the
    7x7 kernels of the neighbouring patch's border words reach across."""
    torch.manual_seed(0)
    model = strong_randomize_(TNT(dict(SMALL, legacy=legacy), out_indices=(0, ))).eval()
    x = torch.randn(1, 3, 32, 48)
    changed = x.clone()
    changed[:, :, 5, 15] += 1  # the last column of patch (0, 0)
    with torch.no_grad():
        (words, _, grid), (words_changed, _, _) = model.patch_embed(x), model.patch_embed(changed)
    assert grid == (2, 3) and words.shape == (6, 16, SMALL['inner_dims'])
    differs = (words - words_changed).abs().amax(dim=(1, 2)) > 0
    # legacy: the words of column 0 of patch (0, 1) see columns 13..19
    assert differs.tolist() == [True, legacy, False, False, False, False]


def test_dense_options_go_to_the_outer_blocks():
    with torch.device('meta'):
        model = TNT('s', with_cls_token=False, window_size=14, use_rel_pos=True,
                    rel_pos_img_size=1024)
    assert [i for i, b in enumerate(model.blocks) if not b.window_size] == [2, 5, 8, 11]
    assert all(b.inner.window_size == 0 and b.inner.attn.rel_pos_h is None for b in model.blocks)
    assert [b.attn.rel_pos_h.shape for b in model.blocks[:3]] == [(27, 64), (27, 64), (127, 64)]
    assert model.cls_token is None and model.pos_embed.shape == (1, 1 + 196, 384)
    # layer-wise learning-rate decay: the stem (word convolution, inner table, stem fold) is 0
    assert [model.layer_id(name) for name in (
        'patch_embed.inner_pos', 'patch_embed.fold.proj.weight', 'pos_embed',
        'blocks.3.inner.attn.qkv.weight', 'blocks.3.fold.norm2.weight', 'blocks.3.mlp.fc1.bias',
        'out_norms.11.weight')] == [0, 0, 0, 4, 4, 4, 13]
    with pytest.raises(ValueError, match='inner_stride'):
        TNT(dict(SMALL, inner_stride=3))
    with pytest.raises(ValueError, match='inner_heads'):
        TNT(dict(SMALL, inner_heads=3))
