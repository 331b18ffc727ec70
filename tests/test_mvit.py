"""MViT backbone (v2 and v1): exact sizes, any input size with and without hybrid window attention,
options, and conversion checked against timm's MViTv2 as a reference."""
import math
import re

import pytest
import torch
import torch.nn.functional as F

from mmvitx.models.backbones import MViT
from mmvitx.models.backbones.mvit import convert_mvit

# Exact counts derived with ../shared/specs/paramcount.py from the official hyperparameters:
# mvitv2(head=False, **MV[...]) (the final LayerNorm kept, which here is the stage-4 output norm);
# L with dim_mul_in_att=False, the released setting (spec §2.3).
V2_BACKBONE_PARAMS = {'t': 23_404_320, 's': 34_101_216, 'b': 50_703_744, 'l': 216_839_952,
                      'h': 665_342_720}
# MViT v1 B-16 follows SlowFast's layer structure (spec §2.4: queries are pooled only at the three
# stage transitions). paramcount.py's v1 figure (36.996M with the classifier) gives every block a
# query pooling conv and norm; those 13 x (96 * 9 + 2 * 96) = 13,728 parameters are not in the
# SlowFast model.
V1_B16_BACKBONE_PARAMS = 36_227_328 - 13_728


def num_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('arch', list(V2_BACKBONE_PARAMS))
def test_v2_parameter_counts(arch):
    with torch.device('meta'):
        model = MViT(arch, out_indices=(3, ))
    assert num_params(model) == V2_BACKBONE_PARAMS[arch]


def test_v1_parameter_count():
    with torch.device('meta'):
        model = MViT('v1-b-16', out_indices=(3, ))
    assert num_params(model) == V1_B16_BACKBONE_PARAMS
    pooled_q = [i for i, block in enumerate(model.blocks) if block.attn.pool_q is not None]
    assert pooled_q == [1, 3, 14]


def expected_sizes(height, width):
    height, width = (height - 1) // 4 + 1, (width - 1) // 4 + 1  # 7x7 conv, stride 4, padding 3
    sizes = [(height, width)]
    for _ in range(3):  # 3x3 stride-2 query pooling, padding 1
        height, width = math.ceil(height / 2), math.ceil(width / 2)
        sizes.append((height, width))
    return sizes


@pytest.mark.parametrize('window_attention', [False, True])
@pytest.mark.parametrize('size', [(250, 190), (97, 131), (32, 32)])
def test_any_input_size(size, window_attention):
    model = MViT('t', window_attention=window_attention).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *size))
    assert [tuple(o.shape[1:]) for o in outs] == [
        (c, *hw) for c, hw in zip((96, 192, 384, 768), expected_sizes(*size))]
    assert all(torch.isfinite(o).all() for o in outs)


def test_v1_class_token_and_window_attention():
    model = MViT('v1-b-16').eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 97, 131))
    # v1 widens in the MLP of the block before each transition: stage outputs are 2C, 4C, 8C, 8C.
    assert [tuple(o.shape[1:]) for o in outs] == [
        (c, *hw) for c, hw in zip((192, 384, 768, 768), expected_sizes(97, 131))]
    with pytest.raises(ValueError, match='cls_token=False'):
        MViT('v1-b-16', window_attention=True)


def test_window_attention_layout():
    model = MViT('t', window_attention=True)
    windows = [block.window_size for block in model.blocks]
    # stage ends 0, 2, 7, 9: global (0) at the last block of stages 2-4; each pooling block
    # partitions its input map (56 -> 28 -> 14 at the transitions 1, 3, 8).
    assert windows == [56, 56, 0, 28, 14, 14, 14, 0, 14, 0]
    kv_strides = [block.attn.pool_k.stride[0] for block in model.blocks]
    assert kv_strides == [4, 2, 4, 1, 1, 1, 1, 2, 1, 1]


def test_invalid_arguments_are_explained():
    with pytest.raises(KeyError, match=r"'t', 's', 'b', 'l', 'h', 'v1-b-16', 'v1-b-24'"):
        MViT('xl')
    with pytest.raises(ValueError, match='out_indices'):
        MViT('t', out_indices=(4, ))
    with pytest.raises(ValueError, match='pool_mode'):
        MViT(dict(embed_dims=32, num_heads=1, depths=(1, 1, 1, 1), pool_mode='median'))


def test_gradients_reach_every_parameter():
    model = MViT(dict(embed_dims=16, num_heads=1, depths=(1, 2, 2, 1)), window_attention=True,
                 drop_path_rate=0.1)
    model.init_weights()
    outs = model(torch.randn(2, 3, 131, 97))
    sum(F.adaptive_avg_pool2d(o, 1).sum() for o in outs).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing


def timm_as_official(name):
    """timm's MViTv2 with random weights, and its state dict in the official (flat ``blocks.N``)
    layout: the inverse of timm's own official-to-timm key mapping."""
    timm = pytest.importorskip('timm', reason='timm is not installed')
    reference = timm.create_model(name).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for tensor in reference.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.randn(tensor.shape, generator=generator) * 0.02)
    starts = [sum(reference.depths[:i]) for i in range(4)]
    official = {}
    for key, value in reference.state_dict().items():
        key = re.sub(r'stages\.(\d+)\.blocks\.(\d+)',
                     lambda m: f'blocks.{starts[int(m[1])] + int(m[2])}', key)
        official[re.sub(r'\.shortcut_proj_(attn|mlp)\.', '.proj.', key)] = value
    return reference, official


@pytest.mark.parametrize('name, arch', [('mvitv2_tiny', 't')])
def test_converter_matches_timm_outputs(name, arch):
    reference, official = timm_as_official(name)
    model = MViT(arch)
    result = model.load_state_dict(convert_mvit(official), strict=False)
    assert not result.unexpected_keys
    assert all(k.startswith('out_norms.') for k in result.missing_keys)
    # timm ends with the official final LayerNorm; use it as mmvitx's stage-4 output norm.
    model.out_norms['3'].load_state_dict(
        {'weight': official['norm.weight'], 'bias': official['norm.bias']})
    model.eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = reference.forward_features(x)
        actual = model(x)[3].flatten(2).transpose(1, 2)
    assert expected.abs().max() > 0.1
    assert (expected - actual).abs().max() < 1e-4


def test_frozen_stages():
    model = MViT('v1-b-16', frozen_stages=1)
    model.train()
    frozen = [model.patch_embed, model.blocks[0], model.out_norms['0']]
    for module in frozen:
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules())
    assert not model.cls_token.requires_grad and not model.pos_embed.requires_grad
    assert all(p.requires_grad for p in model.blocks[1].parameters())
    assert model.blocks[1].training
