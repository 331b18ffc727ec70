"""The plain ViT families (ViT, DeiT, CaiT, DeepViT, CPVT, LocalViT; models/backbones/vit.py):
timm equality at a non-square size and with the dense options, what each paper's change does
(re-attention mixes heads, the PEG carries no absolute position, LocalViT's FFN sees a 3x3
neighbourhood), window and relative-position layout, and the converters' source layouts. The generic
checks (counts, sizes, gradients, freezing, reference at 224) are in tests/test_backbones.py."""
import pytest
import torch
import torch.nn as nn

from mmvitx.models.backbones import (CPVT, BACKBONES, TNT, CaiT, ConViT, DeepViT, DeiT,
                                     LocalViT, ViT)
from mmvitx.models.backbones.vit import (LocalityFFN, PlainAttention, convert_cait,
                                         convert_localvit, init_gpsa_locally_)
from mmvitx.models.layers import plain_ops
from mmvitx.models.pretrained import key_matcher, preset_fits
from mmvitx.testing.references import (TIMM_CAIT, TIMM_CONVIT, TIMM_DEIT, TIMM_TNT,
                                       TIMM_VIT, build_cait_pair, build_convit_pair,
                                       build_deit_pair, build_float64_pair, build_vit_pair,
                                       strong_randomize_)
from spec_params import BACKBONE_PARAMS, plain_vit_backbone_params


def num_params(module):
    return sum(p.numel() for p in module.parameters())


# Small custom archs where a preset adds nothing but time (timm's classes with the same
# hyperparameters are the reference; the presets' names are checked at 224 in test_backbones).
SMALL = dict(embed_dims=64, depth=3, num_heads=4)


@pytest.mark.parametrize('builder, arch, size, kwargs', [
    # timm's dynamic_img_size: the 14x14 table resized to a non-square 6x11 grid
    (build_vit_pair, SMALL, (96, 176), {}),
    # selected blocks, the final norm and output norms
    (build_vit_pair, SMALL, (128, 80), dict(out_indices=(0, 2), final_norm=True,
                                            out_norm_cfg=dict(type='LN2d', eps=1e-6))),
    # the distillation token and its position row
    (build_deit_pair, dict(SMALL, dist_token=True), (96, 176), dict(out_indices=(0, 1))),
    # CaiT's table of a non-square pretraining size (timm's CaiT takes one size)
    (build_cait_pair, dict(SMALL, layer_scale=1e-5), (96, 160), {}),
    # ViTDet's windowed ViT against timm's SAM encoder: 9x9 tokens, padded to 2x2 windows of 5
    (build_vit_pair, dict(SMALL, depth=4), (144, 144),
     dict(with_cls_token=False, window_size=5, use_rel_pos=True, out_indices=(0, 3))),
    # ConViT: GPSA blocks, then the class token joins (timm's ConViT takes square inputs only)
    (build_convit_pair, dict(SMALL, depth=4, gpsa_blocks=2, cls_token_block=2, qkv_bias=False),
     (144, 144), dict(out_indices=(1, 3))),
], ids=['vit-nonsquare', 'vit-options', 'deit-distilled-nonsquare', 'cait-nonsquare',
        'vitdet-windows', 'convit'])
def test_outputs_equal_timm(builder, arch, size, kwargs):
    model, reference = build_float64_pair(builder, arch, size, **kwargs)
    x = torch.randn(2, 3, *size, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for plain in (False, True):
        with torch.no_grad(), plain_ops(plain):
            actual, expected = model(x), reference(x)
        assert len(actual) == len(expected) == len(model.out_indices)
        for a, e in zip(actual, expected):
            assert a.shape == e.shape == (2, model.num_features[0], size[0] // 16, size[1] // 16)
            assert e.std() > 0.1
            assert float((a - e).abs().max()) <= 1e-9 * max(1., float(e.abs().max()))


@pytest.mark.parametrize('cls, names', [(ViT, TIMM_VIT), (DeiT, TIMM_DEIT), (CaiT, TIMM_CAIT),
                                        (ConViT, TIMM_CONVIT), (TNT, TIMM_TNT)])
def test_converted_timm_presets_fit(cls, names):
    """Every preset's timm model (on the meta device), converted, has exactly the weights and
    shapes of the preset (with its final norm; without it, ``norm`` is a key not built), its
    pretraining size is read back from the weights, and the converter tool's check finds the
    preset (TNT's legacy S tells itself from S by its fold's shapes)."""
    timm = pytest.importorskip('timm')
    assert set(names) == set(cls.arch_zoo)
    for arch, name in names.items():
        with torch.device('meta'):
            reference = timm.create_model(name, num_classes=0)
            model = cls(arch, final_norm=True)
        converted = cls.converter()(reference.state_dict())
        assert {k: v.shape for k, v in converted.items()} == {
            k: v.shape for k, v in model.state_dict().items()}, name
        # tools/convert_checkpoint.py finds the preset (the final norm is a key not built)
        label, fit = preset_fits(cls, converted)[0]
        assert fit.fits and label == repr(arch), (name, label)
        assert cls.pretrain_img_size_of(converted) == cls.resolve_arch(arch)['pretrain_img_size']


def test_blocks_after_the_last_output_are_not_built_and_not_loaded():
    with torch.device('meta'):
        model = ViT('b', out_indices=(2, 5, 8))
    assert len(model.blocks) == 9
    assert num_params(model) == plain_vit_backbone_params('vit', 'b', out_indices=(2, 5, 8))
    not_built = key_matcher(model.keys_not_built())
    assert not_built.match('blocks.9.attn.qkv.weight') and not_built.match('blocks.11.norm1.bias')
    assert not_built.match('norm.weight') and not not_built.match('blocks.8.norm1.weight')
    assert not not_built.match('blocks.1.attn.qkv.weight')
    with pytest.raises(ValueError, match='final_norm'):
        ViT('ti', out_indices=(5, ), final_norm=True)


def test_presets_of_other_patch_sizes_output_at_their_stride():
    with torch.device('meta'):
        for arch, stride in (('b-32', 32), ('h', 14)):
            model = ViT(arch, out_indices=(0, ))
            assert model.out_strides == (stride, )
            assert model.pos_embed.shape[1] == 1 + (224 // stride)**2
    model = ViT(dict(embed_dims=48, depth=2, num_heads=2, patch_size=14)).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 29, 57))
    assert [o.shape for o in outs] == [(1, 48, 3, 5)] * 2  # ceil(29 / 14), ceil(57 / 14)


def test_with_cls_token_false_keeps_the_table_rows_and_the_release_loads():
    model = DeiT('t-distilled')
    state = model.state_dict()
    dense = DeiT('t-distilled', with_cls_token=False, window_size=7, use_rel_pos=True)
    assert dense.cls_token is None and dense.dist_token is None
    assert dense.pos_embed.shape == model.pos_embed.shape == (1, 2 + 196, 192)
    not_built = key_matcher(dense.keys_not_built())
    assert not_built.match('cls_token') and not_built.match('dist_token')
    assert not not_built.match('pos_embed')
    missing_from_release = key_matcher(DeiT.keys_missing_from_release)
    result = dense.load_state_dict(
        {k: v for k, v in state.items() if not not_built.match(k)}, strict=False)
    assert not result.unexpected_keys
    assert all(missing_from_release.match(k) for k in result.missing_keys)
    with pytest.raises(ValueError, match='with_cls_token=False'):
        DeiT('t', window_size=7)


def test_pretrain_size_of_a_checkpoint():
    for cls, arch, size in ((DeiT, 'b-distilled-384', 384), (CaiT, 'm48-448', 448),
                            (ViT, 'h', 224), (DeepViT, 's', 224)):
        with torch.device('meta'):
            state = cls(arch).state_dict()
        assert cls.pretrain_img_size_of(state) == size, (cls.__name__, arch)


def test_window_and_global_blocks_and_relative_position_tables():
    model = ViT('ti', with_cls_token=False, window_size=7, use_rel_pos=True)
    windows = [block.window_size for block in model.blocks]
    assert [i for i, w in enumerate(windows) if not w] == [2, 5, 8, 11]  # ViTDet's global blocks
    assert set(windows) == {0, 7}
    # 2 * window - 1 rows in window blocks, 2 * (224 / 16) - 1 in global ones
    rows = [block.attn.rel_pos_h.shape[0] for block in model.blocks]
    assert rows == [27 if not w else 13 for w in windows]
    assert all(block.attn.rel_pos_w.shape == block.attn.rel_pos_h.shape == (row, 64)
               for block, row in zip(model.blocks, rows))
    with torch.device('meta'):
        large = ViT('l', with_cls_token=False, window_size=14)
    assert [i for i, b in enumerate(large.blocks) if not b.window_size] == [5, 11, 17, 23]

    # Only windows: a token outside the changed window's 7x7 block keeps its output. At 97x131
    # the 7x9 map is padded to 7x14 (two windows side by side).
    torch.manual_seed(0)
    model = ViT(dict(embed_dims=48, depth=2, num_heads=2), with_cls_token=False, window_size=7,
                global_blocks=(), use_rel_pos=True, out_indices=(0, ))
    strong_randomize_(model).eval()
    x = torch.randn(1, 3, 97, 131)
    changed = x.clone()
    changed[:, :, :16, -16:] += 1  # the token at (0, 8): the second window
    with torch.no_grad():
        before, = model(x)
        after, = model(changed)
    assert before.shape == (1, 48, 7, 9)
    differs = (before - after).abs().amax(dim=1)[0] > 1e-6
    assert differs[:, 7:].all() and not differs[:, :7].any()


def test_talking_heads_and_layer_scale_of_cait():
    with torch.device('meta'):
        for arch, init in (('xxs24', 1e-5), ('s36-384', 1e-6)):
            model = CaiT(arch)
            assert model.cls_token is None and model.pos_embed.shape[1] == (
                model.arch['pretrain_img_size'] // 16)**2
            block = model.blocks[0]
            assert block.attn.proj_l.weight.shape == (model.arch['num_heads'], ) * 2
            assert model.arch['layer_scale'] == init
    model = CaiT('xxs24', out_indices=(0, ))
    assert torch.equal(model.blocks[0].ls1.weight, torch.full((192, ), 1e-5))
    assert 'blocks.0.ls1.weight' in model.no_weight_decay()


def test_re_attention_mixes_heads():
    """DeepViT's transform: a 1x1 convolution over the heads and a BatchNorm over the heads on
    the attention probabilities (times the scale where asked). Head 0's output then depends on
    head 1's queries; with plain attention it does not."""
    torch.manual_seed(0)
    dims, heads = 32, 4
    for transform, transform_scale in ((True, False), (True, True), (False, False)):
        attn = PlainAttention(dims, heads, mode='re_attention', transform=transform,
                              transform_scale=transform_scale)
        strong_randomize_(attn).eval()
        with torch.no_grad():
            attn.proj.weight.copy_(torch.eye(dims))
            attn.proj.bias.zero_()
        x = torch.randn(2, 10, dims)
        with torch.no_grad():
            out = attn(x, (2, 5))
            qkv = attn.qkv(x).view(2, 10, 3, heads, dims // heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv
            probs = ((q @ k.transpose(-2, -1)) * (dims // heads)**-0.5).softmax(-1)
            if transform:
                bn = attn.var_norm
                mixed = torch.einsum('gh,bhqk->bgqk', attn.reatten_matrix.weight[:, :, 0, 0],
                                     probs) + attn.reatten_matrix.bias[:, None, None]
                mixed = ((mixed - bn.running_mean[:, None, None])
                         / (bn.running_var[:, None, None] + bn.eps).sqrt()
                         * bn.weight[:, None, None] + bn.bias[:, None, None])
                probs = mixed * ((dims // heads)**-0.5 if transform_scale else 1.)
            expected = (probs @ v).transpose(1, 2).reshape(2, 10, dims)
            torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
            # change head 1's queries only
            attn.qkv.weight[dims // heads:2 * dims // heads] += 0.5
            head0 = attn(x, (2, 5))[..., :dims // heads]
        assert (head0 - out[..., :dims // heads]).abs().max() > 1e-3 if transform else (
            torch.equal(head0, out[..., :dims // heads]))


def test_deepvit_presets_and_residual_scale():
    with torch.device('meta'):
        small, large, plain = DeepViT('s'), DeepViT('l'), DeepViT('16b')
    assert [b.attn.transform for b in small.blocks] == [False] * 11 + [True] * 5
    assert [b.attn.transform for b in large.blocks] == [False] * 20 + [True] * 12
    assert all(b.attn.transform for b in plain.blocks)
    assert small.blocks[-1].attn.reatten_scale == 33**-0.5  # 396 / 12 channels per head
    assert large.blocks[-1].attn.reatten_scale == 1.
    assert small.patch_embed.proj.kernel_size == (8, 8) and hasattr(small.patch_embed, 'bn2')
    # x + f(LN(a x)) / a on both branches (a = 0.5)
    torch.manual_seed(0)
    model = DeepViT(dict(embed_dims=24, depth=1, num_heads=2, residual_scale=0.5))
    block = strong_randomize_(model).eval().blocks[0]
    x = torch.randn(1, 1 + 6, 24)
    with torch.no_grad():
        y = x + block.attn(block.norm1(0.5 * x), (2, 3)) / 0.5
        y = y + block.mlp(block.norm2(0.5 * y)) / 0.5
        torch.testing.assert_close(block(x, (2, 3), 1), y)


def shifted_canvas(content, offset, canvas=192, patch=16):
    image = torch.zeros(1, 3, canvas, canvas, dtype=content.dtype)
    top, left = offset[0] * patch, offset[1] * patch
    image[:, :, top:top + content.shape[-2], left:left + content.shape[-1]] = content
    return image


@pytest.mark.parametrize('cls_token', [True, False], ids=['cls', 'gap'])
def test_cpvt_is_translation_equivariant_away_from_borders(cls_token):
    """Without a position table, shifting the content by whole patches (away from the borders,
    where the PEG's zero padding is the same in both places) shifts the outputs exactly; with
    ViT's table it does not."""
    torch.manual_seed(0)
    content = torch.randn(1, 3, 48, 48, dtype=torch.float64)  # 3x3 tokens of a 12x12 map
    a, b = (3, 3), (6, 5)
    arch = dict(embed_dims=48, depth=3, num_heads=2)
    for model, equivariant in ((CPVT(dict(arch, cls_token=cls_token)), True),
                               (ViT(arch), False)):
        model = strong_randomize_(model.double()).eval()
        with torch.no_grad():
            out_a = model(shifted_canvas(content, a))
            out_b = model(shifted_canvas(content, b))
        for fa, fb in zip(out_a, out_b):
            # the content and a token around it, at both places
            crop_a = fa[..., a[0] - 1:a[0] + 4, a[1] - 1:a[1] + 4]
            crop_b = fb[..., b[0] - 1:b[0] + 4, b[1] - 1:b[1] + 4]
            close = float((crop_a - crop_b).abs().max()) <= 1e-9 * float(crop_a.abs().max())
            assert close == equivariant, type(model).__name__


def test_locality_ffn_sees_exactly_its_3x3_neighbourhood():
    torch.manual_seed(0)
    ffn = strong_randomize_(LocalityFFN(8, 16, act='relu6')).eval()  # no SE: nothing global
    x = torch.randn(1, 8, 5, 7)
    for i, j in ((2, 3), (0, 0), (4, 6)):
        changed = x.clone()
        changed[..., i, j] += 1
        with torch.no_grad():
            differs = (ffn(changed) - ffn(x)).abs().amax(dim=1)[0] > 0
        expected = torch.zeros(5, 7, dtype=torch.bool)
        expected[max(i - 1, 0):i + 2, max(j - 1, 0):j + 2] = True
        assert torch.equal(differs, expected), (i, j)


def test_localvit_block_runs_the_ffn_on_the_non_square_map_and_skips_the_class_token():
    torch.manual_seed(0)
    model = LocalViT(dict(embed_dims=16, depth=1, num_heads=2, ffn_act='relu6',
                          se_reduction=None))
    block = strong_randomize_(model).eval().blocks[0]
    with torch.no_grad():  # no attention branch: the block is the FFN alone
        block.attn.proj.weight.zero_()
        block.attn.proj.bias.zero_()
    assert block.norm2 is None and block.mlp is None
    x = torch.randn(1, 1 + 5 * 7, 16)
    changed = x.clone()
    changed[:, 1 + 2 * 7 + 5] += 1  # the token at (2, 5) of the 5x7 map
    with torch.no_grad():
        out, out_changed = block(x, (5, 7), 1), block(changed, (5, 7), 1)
    assert torch.equal(out[:, 0], x[:, 0])  # the class token skips the FFN
    differs = (out_changed - out)[0, 1:].abs().amax(dim=-1).view(5, 7) > 0
    expected = torch.zeros(5, 7, dtype=torch.bool)
    expected[1:4, 4:7] = True
    assert torch.equal(differs, expected)


def test_localvit_presets():
    with torch.device('meta'):
        t, mlp6, se4 = LocalViT('t'), LocalViT('tiny-mlp6-act1'), LocalViT('t-se4')
    assert t.blocks[0].ffn.se.fc1.out_features == 4  # 768 // 192
    assert se4.blocks[0].ffn.se.fc1.out_features == 192  # 768 // 4
    assert mlp6.blocks[0].ffn.se is None and mlp6.blocks[0].ffn.fc1.conv.out_channels == 1152
    assert type(mlp6.blocks[0].ffn.fc1.activate).__name__ == 'ReLU6'
    assert type(t.blocks[0].ffn.fc1.activate).__name__ == 'Hardswish'


def official_localvit_block_keys(with_se):
    """The official FFN's keys (ofsoundof/LocalViT models/localvit.py: an nn.Sequential of conv,
    BN, act, depthwise conv, BN, act, [SE,] conv, BN) for block 0."""
    bn = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')
    keys = ['blocks.0.conv.conv.0.weight', *(f'blocks.0.conv.conv.1.{n}' for n in bn),
            'blocks.0.conv.conv.3.weight', *(f'blocks.0.conv.conv.4.{n}' for n in bn)]
    last = 6
    if with_se:
        keys += [f'blocks.0.conv.conv.6.fc.{i}.{n}' for i in (0, 2) for n in ('weight', 'bias')]
        last = 7
    keys += [f'blocks.0.conv.conv.{last}.weight',
             *(f'blocks.0.conv.conv.{last + 1}.{n}' for n in bn)]
    return keys


@pytest.mark.parametrize('arch, with_se', [('t', True), ('tiny-mlp6-act1', False)])
def test_localvit_converter_maps_the_official_layout(arch, with_se):
    model = LocalViT(dict(LocalViT.arch_zoo[arch], depth=1))
    own = {k: v for k, v in model.state_dict().items() if k.startswith('blocks.0.ffn.')}
    official = official_localvit_block_keys(with_se)
    assert len(official) == len(own)
    # in order, the official Sequential and mmvitx's modules hold the same tensors
    state = {k: v for k, v in zip(official, own.values())}
    state['head.weight'] = torch.zeros(1000, 192)
    converted = convert_localvit(state)
    assert list(converted) == list(own)


def official_deepvit_shapes(dims, depth, transform_blocks, conv_stem, heads=12, mlp_ratio=3):
    """The official DeepViT state dict's names and shapes (zhoudaquan/dvit_repo, timm 0.3 names:
    ``attn.reatten_matrix`` and ``attn.var_norm`` in the blocks with the re-attention transform,
    ``patch_embed.{conv1,bn1,conv2,bn2,proj}`` for the convolutional stem), written from the
    release's layout, not from mmvitx's model."""
    def bn(prefix, channels):
        return {f'{prefix}.{name}': (channels, ) for name in
                ('weight', 'bias', 'running_mean', 'running_var')} | {
                    f'{prefix}.num_batches_tracked': ()}
    hidden = mlp_ratio * dims
    shapes = {'cls_token': (1, 1, dims), 'pos_embed': (1, 197, dims), 'norm.weight': (dims, ),
              'norm.bias': (dims, ), 'head.weight': (1000, dims), 'head.bias': (1000, )}
    if conv_stem:
        shapes |= {'patch_embed.conv1.weight': (64, 3, 7, 7), 'patch_embed.conv2.weight':
                   (64, 64, 3, 3), 'patch_embed.proj.weight': (dims, 64, 8, 8),
                   'patch_embed.proj.bias': (dims, )}
        shapes |= bn('patch_embed.bn1', 64) | bn('patch_embed.bn2', 64)
    else:
        shapes |= {'patch_embed.proj.weight': (dims, 3, 16, 16), 'patch_embed.proj.bias': (dims, )}
    for i in range(depth):
        block = f'blocks.{i}'
        shapes |= {f'{block}.norm1.weight': (dims, ), f'{block}.norm1.bias': (dims, ),
                   f'{block}.attn.qkv.weight': (3 * dims, dims),
                   f'{block}.attn.qkv.bias': (3 * dims, ),
                   f'{block}.attn.proj.weight': (dims, dims), f'{block}.attn.proj.bias': (dims, ),
                   f'{block}.norm2.weight': (dims, ), f'{block}.norm2.bias': (dims, ),
                   f'{block}.mlp.fc1.weight': (hidden, dims), f'{block}.mlp.fc1.bias': (hidden, ),
                   f'{block}.mlp.fc2.weight': (dims, hidden), f'{block}.mlp.fc2.bias': (dims, )}
        if i >= depth - transform_blocks:
            shapes |= {f'{block}.attn.reatten_matrix.weight': (heads, heads, 1, 1),
                       f'{block}.attn.reatten_matrix.bias': (heads, )}
            shapes |= bn(f'{block}.attn.var_norm', heads)
    return shapes


@pytest.mark.parametrize('arch, dims, depth, transform_blocks, conv_stem', [
    ('s', 396, 16, 5, True), ('l', 420, 32, 12, True), ('24b', 384, 24, 24, False)])
def test_deepvit_converter_maps_the_official_layout(arch, dims, depth, transform_blocks,
                                                    conv_stem, tmp_path):
    """An official DeepViT file (its layout from the release's names and shapes) converts to
    exactly the preset's weights (the head dropped, the final norm a key the dense backbone does
    not build), the converter tool's preset check finds the preset, and it loads strictly."""
    from mmvitx.models.backbones.vit import convert_deepvit
    from mmvitx.models.pretrained import load_pretrained
    official = {key: torch.randn(shape) if shape else torch.tensor(7)
                for key, shape in official_deepvit_shapes(dims, depth, transform_blocks,
                                                          conv_stem).items()}
    converted = convert_deepvit(official)
    assert not any(key.startswith('head.') for key in converted)
    label, fit = preset_fits(DeepViT, converted)[0]
    assert fit.fits and label.startswith(repr(arch)), (label, fit)
    with torch.device('meta'):
        model = DeepViT(arch, final_norm=True)
    assert {k: tuple(v.shape) for k, v in converted.items()} == {
        k: tuple(v.shape) for k, v in model.state_dict().items()}
    path = tmp_path / 'deepvit.pth'
    torch.save(official, path)
    dense = DeepViT(arch, out_indices=(depth - 1, ))
    load_pretrained(dense, str(path), 'deepvit')
    torch.testing.assert_close(dense.state_dict()['blocks.0.attn.qkv.weight'],
                               official['blocks.0.attn.qkv.weight'], rtol=0, atol=0)


def test_cait_converter_drops_the_class_attention_stage():
    model = CaiT(dict(embed_dims=32, depth=2, num_heads=4))
    own = model.state_dict()
    official = {'cls_token': torch.zeros(1, 1, 32), 'pos_embed': own['pos_embed'],
                'patch_embed.proj.weight': own['patch_embed.proj.weight'],
                'patch_embed.proj.bias': own['patch_embed.proj.bias']}
    for key, value in own.items():
        if key.startswith('blocks.'):
            official[key.replace('.ls1.weight', '.gamma_1').replace('.ls2.weight', '.gamma_2')] = (
                value)
    official.update({'blocks_token_only.0.attn.q.weight': torch.zeros(32, 32),
                     'blocks_token_only.1.gamma_1': torch.zeros(32),
                     'norm.weight': torch.ones(32), 'norm.bias': torch.zeros(32),
                     'head.weight': torch.zeros(1000, 32), 'head.bias': torch.zeros(1000)})
    converted = convert_cait(official)
    assert set(converted) == set(own) | {'norm.weight', 'norm.bias'}
    assert key_matcher(model.keys_not_built()).match('norm.weight')


def test_counts_of_the_dense_options():
    with torch.device('meta'):
        vitdet = ViT('b', with_cls_token=False, window_size=14, use_rel_pos=True,
                     rel_pos_img_size=1024)
    # ViTDet's ViT-B at 1024 (detectron2 ``ViT(img_size=1024, window_size=14, use_rel_pos=True,
    # window_block_indexes=[0, 1, 3, 4, 6, 7, 9, 10])``): window tables of 2 * 14 - 1 rows,
    # global ones of 2 * 64 - 1, no class token, the position table with its class row.
    assert num_params(vitdet) == 85_889_024
    with torch.device('meta'):
        sized_for_pretraining = ViT('b', with_cls_token=False, window_size=14, use_rel_pos=True)
    # global tables sized for the 224 pretraining grid instead: 4 blocks x 2 tables x 100 rows
    assert num_params(vitdet) - num_params(sized_for_pretraining) == 4 * 2 * (127 - 27) * 64
    # the preset's count less the class token, plus 12 blocks' two 27-row tables
    assert BACKBONE_PARAMS['vit']['b'] - 768 + 12 * 2 * 27 * 64 == num_params(
        sized_for_pretraining)


def test_every_family_registers_its_presets_in_one_class_hierarchy():
    from mmvitx.models.backbones.vit import PlainViT
    families = ('vit', 'deit', 'cait', 'deepvit', 'cpvt', 'localvit', 'convit', 'ceit', 't2tvit',
                'sovit', 'tnt')
    assert all(issubclass(BACKBONES[f], PlainViT) for f in families)
    first = list(BACKBONES).index(families[0])  # registered together, in this order
    assert list(BACKBONES)[first:first + len(families)] == list(families)
    assert all(BACKBONES[f].__init__ is not PlainViT.__init__ for f in families)
    assert LocalViT().arch['embed_dims'] == 384 and CPVT().peg is not None
    assert isinstance(DeepViT('16b', out_indices=(0, )).blocks[0].attn.var_norm, nn.BatchNorm2d)


def test_sam_image_encoder_release_converts_to_the_vitdet_layout():
    """SAM's official files (``sam_vit_b_01ec64.pth``: the image encoder under
    ``image_encoder.`` with MLPs ``lin1``/``lin2``, a (1, 64, 64, D) position table and a neck,
    beside the prompt encoder and mask decoder) convert to what timm's layout of the same encoder
    converts to; the table gets an unused zero class row."""
    model, reference, _ = build_vit_pair(dict(SMALL, depth=4), (144, 144), with_cls_token=False,
                                         window_size=5, use_rel_pos=True)
    timm_state = reference.model.state_dict()
    release = {f'image_encoder.{key}'.replace('.mlp.fc', '.mlp.lin'): value
               for key, value in timm_state.items()}
    release['prompt_encoder.pe_layer.positional_encoding_gaussian_matrix'] = torch.zeros(2, 64)
    release['mask_decoder.iou_token.weight'] = torch.zeros(1, 256)
    assert any('.mlp.lin1.' in key for key in release)
    from mmvitx.models.backbones.vit import convert_vit
    converted, from_timm = convert_vit(release), convert_vit(timm_state)
    assert converted.keys() == from_timm.keys() == model.state_dict().keys() - {
        key for key in model.state_dict() if key.startswith('out_norms.')}
    for key in converted:
        torch.testing.assert_close(converted[key], from_timm[key], rtol=0, atol=0)
    grid = timm_state['pos_embed']
    assert converted['pos_embed'].shape == (1, 1 + 9 * 9, SMALL['embed_dims'])
    assert not converted['pos_embed'][:, 0].any()
    torch.testing.assert_close(converted['pos_embed'][0, 1:], grid.flatten(1, 2)[0])


def test_mae_pretrained_encoder_loads_into_the_vitdet_layout(tmp_path):
    """MAE's released pre-training checkpoints (facebookresearch/mae, ``mae_pretrain_vit_*.pth``,
    the usual ViTDet starting point) hold the encoder in timm's layout under ``model``: class
    token, 197-row position table, blocks and the final norm, no head. ViTDet's layout (no class
    token, windows, relative positions) loads them: the class token and final norm are not built,
    the relative-position tables are mmvitx's own (zero-initialised, as in ViTDet)."""
    from mmvitx.models.pretrained import load_pretrained
    encoder = strong_randomize_(ViT('ti', final_norm=True))
    release = {key: value for key, value in encoder.state_dict().items()
               if not key.startswith('out_norms.')}
    assert {'cls_token', 'pos_embed', 'norm.weight'} <= set(release)
    path = tmp_path / 'mae_pretrain_vit_tiny.pth'
    torch.save({'model': release}, path)
    vitdet = ViT('ti', with_cls_token=False, window_size=14, use_rel_pos=True,
                 rel_pos_img_size=1024)
    load_pretrained(vitdet, str(path), 'vit')
    loaded = vitdet.state_dict()
    torch.testing.assert_close(loaded['pos_embed'], release['pos_embed'], rtol=0, atol=0)
    torch.testing.assert_close(loaded['blocks.11.mlp.fc2.weight'],
                               release['blocks.11.mlp.fc2.weight'], rtol=0, atol=0)
    assert not loaded['blocks.2.attn.rel_pos_h'].any()


def test_gpsa_local_initialisation_attends_to_one_offset_per_head_on_a_non_square_grid():
    """ConViT's defining property: locally initialised, with the gates open (sigmoid -> 1) and a
    high locality strength, each of the k x k heads of a GPSA copies the token at its own offset
    (dx, dy) = (h2 - c, h1 - c) of a k x k neighbourhood (values are the identity), on any grid
    shape: here 5 x 8 tokens, away from the borders."""
    heads, dims = 9, 18
    attn = PlainAttention(dims, heads, qkv_bias=False, mode='gpsa').double().eval()
    with torch.no_grad():
        init_gpsa_locally_(attn, strength=30.)
        attn.gating_param.fill_(40.)
        attn.proj.weight.copy_(torch.eye(dims))
        attn.proj.bias.zero_()
    size = (5, 8)
    x = torch.randn(1, size[0] * size[1], dims, dtype=torch.float64)
    out = attn(x, size).view(*size, heads, dims // heads)
    grid = x.view(*size, heads, dims // heads)
    for h1 in range(3):
        for h2 in range(3):
            head = h1 + 3 * h2
            dx, dy = h2 - 1, h1 - 1
            torch.testing.assert_close(out[1:4, 1:7, head],
                                       grid[1 + dy:4 + dy, 1 + dx:7 + dx, head])


def test_convit_class_token_joins_at_block_10_without_a_table_row():
    model = ConViT('ti', out_indices=(9, 11))
    assert model.pos_embed.shape == (1, 196, 192)
    assert [block.attn.mode for block in model.blocks] == ['gpsa'] * 10 + ['plain'] * 2
    outputs = model(torch.randn(1, 3, 97, 131))
    assert [tuple(o.shape) for o in outputs] == [(1, 192, 7, 9)] * 2
