"""PSViT backbone: exact sizes of mmvitx's instantiations and their compute budget, attention
sharing (a sharing layer has no Q/K and applies the previous layer's map), both token-pooling
designs, any input size, options, and checkpoint loading."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import MODELS

from mmvitx.models.backbones import PSViT
from mmvitx.models.backbones.psvit import (TokenPooling1d, convert_psvit, from_block_order,
                                           to_block_order)
from mmvitx.utils.complexity import count_flops
from spec_params import PSVIT_BACKBONE_PARAMS, PSVIT_LEVEL_CHANNELS, psvit_backbone_params


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def build(*args, **kwargs):
    model = PSViT(*args, **kwargs)
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('pooling', ['2d', '1d'])
@pytest.mark.parametrize('arch', ['t', 's'])
@pytest.mark.parametrize('out_indices', [(0, 1, 2, 3), (3, ), (1, 2)])
def test_parameter_counts(arch, pooling, out_indices):
    with torch.device('meta'):
        model = PSViT(arch, pooling=pooling, out_indices=out_indices)
    assert num_params(model) == psvit_backbone_params(arch, pooling, out_indices)


# The instantiations' budget (README, "PSViT"): DeiT-Tiny 5.7M / 1.3 GFLOPs and DeiT-Small 22M /
# 4.6 GFLOPs at 224, counted like DeiT's with a 1000-class Linear on the last stage.
@pytest.mark.parametrize('pooling', ['2d', '1d'])
@pytest.mark.parametrize('arch', ['t', 's'])
def test_documented_counts_equal_the_formula(arch, pooling):
    """The figures README and the configs quote (tests/spec_params.py) are the formula's and the
    model's."""
    model = PSViT(arch, pooling=pooling)
    assert num_params(model) == psvit_backbone_params(arch, pooling) == PSVIT_BACKBONE_PARAMS[
        arch, pooling]


@pytest.mark.parametrize('arch, params, gflops, budget_params, budget_gflops', [
    ('t', 5_537_960, 1.2936, 5.7e6, 1.3),
    ('s', 21_809_512, 4.5914, 22e6, 4.6),
])
def test_instantiations_meet_deit_budgets(arch, params, gflops, budget_params, budget_gflops):
    model = PSViT(arch, out_indices=(3, )).eval()
    classifier = PSVIT_LEVEL_CHANNELS[arch][3] * 1000 + 1000
    assert num_params(model) + classifier == params
    flops = count_flops(model, (torch.randn(1, 3, 224, 224), ))
    assert flops / 1e9 == pytest.approx(gflops, abs=1e-4)
    assert abs(params / budget_params - 1) < 0.05 and abs(gflops / budget_gflops - 1) < 0.05


def test_layer_codes_build_sharing_layers():
    model = PSViT('t')
    for stage, codes in zip(model.stages, model.arch['layers']):
        assert [layer.attn.shares_map for layer in stage] == [c == 'S' for c in codes]
    sharing = model.stages[0][1].attn
    names = {name for name, _ in sharing.named_parameters()}
    # No Q/K projection: only V and the output projection.
    assert names == {'v.weight', 'v.bias', 'proj.weight', 'proj.bias'}
    assert not hasattr(sharing, 'qkv')


def _capture_maps(model):
    """Every layer's input and the attention map it returned or received."""
    records = []

    def hook(layer, args, kwargs, output):
        x, size, shared_map, return_map = (list(args) + [None, None])[:4]
        shared_map = kwargs.get('shared_map', shared_map)
        records.append(dict(layer=layer, x=x, size=size, shared_map=shared_map, out=output))

    for stage in model.stages:
        for layer in stage:
            layer.register_forward_hook(hook, with_kwargs=True)
    return records


@pytest.mark.parametrize('window_size', [None, 5])
def test_sharing_layer_applies_previous_layers_map(window_size):
    torch.manual_seed(0)
    model = build('t', window_size=window_size, out_indices=(3, ))
    records = _capture_maps(model)
    with torch.no_grad():
        model(torch.randn(2, 3, 88, 72))
    first, second = records[0], records[1]
    assert second['layer'].attn.shares_map
    # The map the basic layer computes from its own Q and K, by hand.
    layer, x, size = first['layer'], first['x'], first['size']
    tokens = layer.norm1(x)
    if window_size:
        grid = F.pad(tokens.reshape(2, *size, -1), (0, 0, 0, -size[1] % 5, 0, -size[0] % 5))
        rows, cols = grid.shape[1] // 5, grid.shape[2] // 5
        tokens = grid.reshape(2, rows, 5, cols, 5, -1).permute(0, 1, 3, 2, 4, 5).reshape(
            2 * rows * cols, 25, -1)
    heads = layer.attn.num_heads
    q, k, _ = layer.attn.qkv(tokens).reshape(tokens.shape[0], tokens.shape[1], 3, heads,
                                             -1).permute(2, 0, 3, 1, 4)
    expected = (q @ k.transpose(-2, -1) / q.shape[-1]**0.5).softmax(-1)
    assert first['out'][1] is not None
    torch.testing.assert_close(first['out'][1], expected, rtol=1e-5, atol=1e-6)
    # The sharing layer receives exactly that map and its attention is map @ V.
    assert second['shared_map'] is first['out'][1]
    shared = second['layer'].attn
    if window_size is None:
        v_in = second['layer'].norm1(second['x'])
        v = shared.v(v_in).reshape(2, v_in.shape[1], heads, -1).transpose(1, 2)
        attended = (expected @ v).transpose(1, 2).reshape(2, v_in.shape[1], -1)
        out, _ = shared(v_in, shared_map=expected)
        torch.testing.assert_close(out, shared.proj(attended), rtol=1e-5, atol=1e-6)
    # A basic layer followed by another basic layer (stage 3: 'BSBB') hands on no map.
    assert not records[-2]['layer'].attn.shares_map and records[-2]['out'][1] is None


def test_explicit_map_and_sdpa_paths_agree():
    torch.manual_seed(0)
    attn = PSViT('t').stages[2][3].attn.eval()
    x = torch.randn(2, 30, 256)
    out_sdpa, no_map = attn(x)
    out_explicit, attn_map = attn(x, return_map=True)
    assert no_map is None and attn_map.shape == (2, 4, 30, 30)
    torch.testing.assert_close(out_sdpa, out_explicit, rtol=1e-5, atol=1e-5)


def test_sharing_layer_without_map_is_an_error():
    with pytest.raises(ValueError, match='shared_map'):
        PSViT('t').stages[0][1].attn(torch.randn(1, 4, 64))


def test_block_order_round_trip_and_pooling():
    grid = torch.randn(2, 8, 12, 5)
    tokens = to_block_order(grid, 2)
    assert torch.equal(tokens[0, :4], grid[0, :2, :2].reshape(4, 5))
    assert torch.equal(from_block_order(tokens, (8, 12), 2), grid)
    # 1-D max pooling of runs of 4 in block order == 2x2 max pooling of the grid, still in block
    # order one level up.
    pooled = F.max_pool1d(tokens.transpose(1, 2), 4, 4).transpose(1, 2)
    expected = F.max_pool2d(grid.permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)
    assert torch.equal(from_block_order(pooled, (4, 6), 1), expected)


def test_1d_pooling_is_pointwise_conv_and_max_pooling():
    torch.manual_seed(0)
    pooling = TokenPooling1d(8, 16)
    grid = torch.randn(2, 4, 8, 8)
    cls_token = torch.randn(2, 1, 8)
    out, size = pooling(torch.cat([cls_token, to_block_order(grid, 2)], 1), (4, 8))
    assert size == (2, 4)
    conv = F.conv2d(grid.permute(0, 3, 1, 2), pooling.conv.weight[..., None], pooling.conv.bias)
    expected = pooling.norm(F.max_pool2d(conv, 2).permute(0, 2, 3, 1))
    torch.testing.assert_close(from_block_order(out[:, 1:], size, 1), expected)
    torch.testing.assert_close(out[:, 0], pooling.norm(pooling.conv(cls_token.transpose(1, 2))[..., 0]))


@pytest.mark.parametrize('pooling, window_size', [('2d', None), ('2d', 7), ('1d', None)])
@pytest.mark.parametrize('size', [(224, 224), (97, 131), (250, 190), (33, 17), (1, 1)])
def test_any_input_size(pooling, window_size, size):
    model = build('t', pooling=pooling, window_size=window_size)
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *size))
    for level, (out, stride) in enumerate(zip(outs, (4, 8, 16, 32))):
        side = [math_ceil(s, max(stride, 8)) * (2 if level == 0 else 1) for s in size]
        assert out.shape == (1, PSVIT_LEVEL_CHANNELS['t'][level], *side)
        assert torch.isfinite(out).all()


def math_ceil(value, stride):
    return -(-value // stride)


def test_1d_outputs_are_cropped_to_the_input():
    """The 1-D design pads the input to a multiple of 32 (the block order needs whole 4x4 token
    blocks); its outputs are cropped back to ceil(size / stride)."""
    torch.manual_seed(0)
    model = build('t', pooling='1d')
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 96))
        padded = model(torch.randn(1, 3, 72, 100))
    assert [o.shape[-2:] for o in outs] == [(16, 24), (8, 12), (4, 6), (2, 3)]
    assert [o.shape[-2:] for o in padded] == [(18, 26), (9, 13), (5, 7), (3, 4)]


def test_hybrid_window_attention_layout():
    model = PSViT('t', window_size=14)
    windows = [[layer.window_size for layer in stage] for stage in model.stages]
    # Stage 1 windowed throughout; stage 2 up to its last basic layer (which, with the layers
    # sharing its map, attends globally); stage 3 global.
    assert windows[0] == [14] * 8
    assert windows[1] == [14] * 6 + [0, 0]
    assert windows[2] == [0] * 4


def test_class_token_outputs():
    model = build('t', pooling='1d', out_type='cls_token', out_indices=(3, ))
    with torch.no_grad():
        (token, ) = model(torch.randn(2, 3, 96, 64))
    assert token.shape == (2, 256)


def test_invalid_arguments_are_explained():
    with pytest.raises(KeyError, match=r"valid: \['t', 's'\]"):
        PSViT('m')
    with pytest.raises(ValueError, match="starting with 'B'"):
        PSViT(dict(embed_dims=(8, 16, 32), num_heads=(1, 1, 1), layers=('B', 'SB', 'B')))
    with pytest.raises(ValueError, match="'B' \\(basic\\)"):
        PSViT(dict(embed_dims=(8, 16, 32), num_heads=(1, 1, 1), layers=('B', 'BX', 'B')))
    with pytest.raises(ValueError, match='3 entries'):
        PSViT(dict(embed_dims=(8, 16), num_heads=(1, 1), layers=('B', 'B')))
    with pytest.raises(ValueError, match="'1d' or '2d'"):
        PSViT('t', pooling='3d')
    with pytest.raises(ValueError, match='window_size needs'):
        PSViT('t', pooling='1d', window_size=7)
    with pytest.raises(ValueError, match='cls_token'):
        PSViT('t', out_type='cls_token')
    with pytest.raises(ValueError, match='out_indices'):
        PSViT('t', out_indices=(4, ))
    with pytest.raises(ValueError, match='frozen_stages must be in -1..3'):
        PSViT('t', frozen_stages=4)


def test_custom_arch_with_identity_stage_and_sharing_chain():
    model = build(dict(embed_dims=(16, 32, 64), num_heads=(1, 2, 4), layers=('BSS', '', 'B')))
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 40, 56))
    assert [tuple(o.shape[1:]) for o in outs] == [(16, 10, 14), (16, 5, 7), (32, 3, 4), (64, 2, 2)]


def test_registered_and_gradients_reach_every_parameter():
    model = MODELS.build(dict(type='PSViT', arch='t', pooling='1d'))
    model.init_weights()
    model.train()
    sum(o.mean() for o in model(torch.randn(2, 3, 64, 64))).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_frozen_stages_and_norm_eval():
    model = PSViT('t', frozen_stages=2, out_norm_cfg=dict(type='BN'), norm_eval=True)
    model.train()
    frozen = [model.patch_embed, model.stages[0], model.upsample, model.out_norms['0'],
              model.out_norms['1'], model.poolings[0], model.stages[1], model.out_norms['2']]
    assert not any(p.requires_grad for m in frozen for p in m.parameters())
    assert not model.pos_embed.requires_grad
    assert all(p.requires_grad for p in model.stages[2].parameters())
    assert all(p.requires_grad for p in model.poolings[1].parameters())
    assert not model.out_norms['3'].training  # BN under norm_eval


def test_checkpointing_gives_same_outputs_and_gradients():
    torch.manual_seed(0)
    plain = build('t', window_size=5)
    checkpointed = build('t', window_size=5, with_cp=True)
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 64, 80)
    grads = []
    for model in (plain, checkpointed):
        model.train()
        model.zero_grad()
        sum(o.sum() for o in model(x)).backward()
        grads.append(model.stages[0][1].attn.v.weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


def test_classifier_checkpoint_loads_through_init_cfg(tmp_path):
    torch.manual_seed(0)
    source = build('t')
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    state['head.fc.weight'] = torch.zeros(1000, 256)
    path = tmp_path / 'psvit-2d-t_classifier.pth'
    torch.save({'state_dict': state, 'meta': {}}, path)
    target = build('t', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(source(x), target(x)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert list(convert_psvit(source.state_dict())) == list(source.state_dict())


