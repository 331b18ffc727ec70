"""MViT backbone (v2 and v1): exact sizes, any input size with and without hybrid window attention,
options, and conversion checked against timm's MViTv2 as a reference."""
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mmvitx.models.backbones import MViT
from mmvitx.models.backbones.mvit import convert_mvit
from mmvitx.testing.references import strong_randomize_
from spec_params import MVIT_V1_BACKBONE_PARAMS
from training_step import assert_training_step_matches

REPO = Path(__file__).resolve().parents[1]

# Exact counts (tests/spec_params.py; every preset's default count is asserted in
# tests/test_backbones.py): v1 with SlowFast's structure. SlowFast's MViT.__init__
# (slowfast/models/video_model_builder.py) sets a q kernel only for the POOL_Q_STRIDE blocks (1, 3,
# 14 in configs/ImageNet/MVIT_B_16_CONV.yaml) and leaves [] for the others, and
# MultiScaleAttention (slowfast/models/attention.py) builds no pool_q/norm_q when the products of
# kernel and stride are 1 (numpy.prod([]) == 1). MViTv2 configs (MVITv2_T.yaml) list every block in
# POOL_Q_STRIDE (stride 1 outside the transitions): a pool_q in each v2 block.


def num_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('arch, transitions', [('v1-b-16', [1, 3, 14]), ('v1-b-24', [2, 5, 21])])
def test_v1_parameter_counts(arch, transitions):
    with torch.device('meta'):
        model = MViT(arch, out_indices=(3, ))
    assert num_params(model) == MVIT_V1_BACKBONE_PARAMS[arch]
    pooled_q = [i for i, block in enumerate(model.blocks) if block.attn.pool_q is not None]
    assert pooled_q == transitions


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


def random_timm_mvit(name):
    """timm's MViTv2 with weights at a trained model's scale."""
    timm = pytest.importorskip('timm', reason='timm is not installed')
    return strong_randomize_(timm.create_model(name)).eval()


@pytest.mark.parametrize('name, arch', [('mvitv2_tiny', 't')])
def test_converter_matches_timm_outputs(name, arch):
    """timm's per-stage layout converts directly; the result is the official flat layout."""
    reference = random_timm_mvit(name)
    timm_state = reference.state_dict()
    model = MViT(arch)
    converted = convert_mvit(timm_state)
    assert 'blocks.1.proj.weight' in converted  # stages.1.blocks.0.shortcut_proj_attn in timm
    assert convert_mvit(converted).keys() == converted.keys()  # idempotent on mmvitx's layout
    result = model.load_state_dict(converted, strict=False)
    assert not result.unexpected_keys
    assert all(k.startswith('out_norms.') for k in result.missing_keys)
    # timm ends with the official final LayerNorm; use it as mmvitx's stage-4 output norm.
    model.out_norms['3'].load_state_dict(
        {'weight': timm_state['norm.weight'], 'bias': timm_state['norm.bias']})
    model.eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = reference.forward_features(x)
        actual = model(x)[3].flatten(2).transpose(1, 2)
    assert expected.abs().max() > 0.1
    assert (expected - actual).abs().max() < 1e-4 * max(1, expected.abs().max())


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


def test_output_norm_choice_and_norm_eval():
    """The output norms act on the (B, C, H, W) maps: LayerNorm over the channels by default (each
    pixel's feature vector normalised), any ``build_norm_layer`` norm on request; ``norm_eval``
    keeps BatchNorm output norms in eval mode during training."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 97, 131)
    default = MViT('t').eval()
    for out in default(x):
        torch.testing.assert_close(out.mean(1), torch.zeros_like(out.mean(1)), atol=1e-5, rtol=0)
    batch_norm = MViT('t', out_norm_cfg=dict(type='BN'), norm_eval=True)
    assert all(isinstance(norm, torch.nn.BatchNorm2d) for norm in batch_norm.out_norms.values())
    batch_norm.train()
    assert not any(norm.training for norm in batch_norm.out_norms.values())
    outs = batch_norm(x)
    assert [out.shape[1] for out in outs] == [96, 192, 384, 768]


# ----------------------------------------------------------------------------- SlowFast MViT v1
def random_v1_b16():
    """MViT('v1-b-16') with weights at a trained model's scale everywhere but the output norms,
    which a converted ImageNet checkpoint does not hold (they stay at LayerNorm's default in both
    models)."""
    model = MViT('v1-b-16').eval()
    strong_randomize_(model)
    for norm in model.out_norms.values():
        norm.reset_parameters()
    return model


def to_slowfast_v1(state, separate_qkv=True, patch_2d=False):
    """mmvitx v1-b-16 weights in the layout of a facebookresearch/SlowFast MViT v1 image checkpoint
    (configs/ImageNet/MVIT_B_16_CONV.yaml), written from SlowFast's module definitions:

    - ``patch_embed.proj``: stem_helper.PatchEmbed, a Conv3d with kernel (1, 7, 7) -> weight
      (96, 3, 1, 7, 7); a Conv2d (96, 3, 7, 7) where the config sets PATCH_2D.
    - ``cls_token`` (1, 1, 96) and a joint ``pos_embed`` (1, 56 * 56 + 1, 96) (SEP_POS_EMBED off).
    - attention.MultiScaleAttention: ``attn.q``, ``attn.k``, ``attn.v`` = Linear(dim, dim) each in
      the code the v1 models were released with (``attn.qkv`` = Linear(dim, 3 * dim) since the
      MViTv2 update unless SEPARATE_QKV); ``attn.pool_{q,k,v}`` = depthwise Conv3d(head_dim,
      head_dim, (1, 3, 3), bias=False) -> weight (head_dim, 1, 1, 3, 3), each followed by
      ``attn.norm_{q,k,v}``; ``attn.proj``.
    - MultiScaleBlock: ``norm1``, ``norm2``, ``mlp.fc1``, ``mlp.fc2`` and, where the width grows,
      ``proj`` = Linear(dim, dim_out).
    - The classifier: ``norm`` (768) and head_helper.TransformerBasicHead's ``head.projection``
      = Linear(768, 1000).
    """
    slowfast = {}
    for key, value in state.items():
        if key.startswith('out_norms.'):
            continue  # mmvitx's dense-prediction norms: not in a classification checkpoint
        match = re.fullmatch(r'(blocks\.\d+\.attn)\.qkv\.(weight|bias)', key)
        if match and separate_qkv:
            for name, part in zip('qkv', value.chunk(3, dim=0)):
                slowfast[f'{match[1]}.{name}.{match[2]}'] = part.clone()
            continue
        if re.fullmatch(r'blocks\.\d+\.attn\.pool_[qkv]\.weight', key) or (
                key == 'patch_embed.proj.weight' and not patch_2d):
            value = value.unsqueeze(2)  # Conv3d kernel (1, k, k)
        slowfast[key] = value.clone()
    generator = torch.Generator().manual_seed(2)
    slowfast['norm.weight'], slowfast['norm.bias'] = torch.ones(768), torch.zeros(768)
    slowfast['head.projection.weight'] = torch.randn(1000, 768, generator=generator) * 0.02
    slowfast['head.projection.bias'] = torch.zeros(1000)
    return slowfast


def test_slowfast_v1_layout_fixture():
    """The fixture's names and shapes, as read in SlowFast for MVIT_B_16_CONV."""
    slowfast = to_slowfast_v1(MViT('v1-b-16').state_dict())
    shapes = {k: tuple(v.shape) for k, v in slowfast.items()}
    assert shapes['patch_embed.proj.weight'] == (96, 3, 1, 7, 7)
    assert shapes['cls_token'] == (1, 1, 96) and shapes['pos_embed'] == (1, 3137, 96)
    assert shapes['blocks.0.attn.q.weight'] == (96, 96)
    assert shapes['blocks.0.attn.pool_k.weight'] == (96, 1, 1, 3, 3)  # 1 head of 96
    assert shapes['blocks.0.proj.weight'] == (192, 96)  # v1 widens in the block before a transition
    assert shapes['blocks.0.mlp.fc2.weight'] == (192, 384)
    assert shapes['blocks.1.attn.v.weight'] == (192, 192)
    assert shapes['blocks.1.attn.pool_q.weight'] == (96, 1, 1, 3, 3)  # 2 heads of 96
    assert shapes['blocks.15.attn.norm_v.weight'] == (96, )
    assert shapes['head.projection.weight'] == (1000, 768) and shapes['norm.weight'] == (768, )
    assert not any('.qkv.' in k for k in shapes)
    pooled_q = sorted(int(k.split('.')[1]) for k in shapes if k.endswith('attn.pool_q.weight'))
    assert pooled_q == [1, 3, 14]


def test_slowfast_v1_checkpoint_cli_and_init_cfg(tmp_path):
    source = random_v1_b16()
    slowfast = to_slowfast_v1(source.state_dict())
    src, dst = tmp_path / 'MVIT_B_16_CONV.pyth', tmp_path / 'mvit-v1-b-16_in1k.pth'
    # The pycls-style file SlowFast's checkpoint.save_checkpoint writes.
    torch.save({'epoch': 300, 'model_state': slowfast, 'cfg': 'MVIT:\n  DEPTH: 16\n'}, src)
    result = subprocess.run([sys.executable, 'tools/convert_checkpoint.py', 'mvit', str(src),
                             str(dst)], cwd=REPO, capture_output=True, text=True, check=True)
    assert 'Converted' in result.stdout

    expected_state = {k: v for k, v in source.state_dict().items()
                      if not k.startswith('out_norms.')}
    converted = torch.load(dst, map_location='cpu', weights_only=True)['state_dict']
    assert converted.keys() == expected_state.keys()
    assert all(torch.equal(converted[k], v) for k, v in expected_state.items())

    x = torch.randn(1, 3, 200, 264, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = source(x)
    for checkpoint in (dst, src):  # the converted file, and the release file converted on load
        model = MViT('v1-b-16', init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint)))
        model.init_weights()
        model.eval()
        with torch.no_grad():
            actual = model(x)
        assert [o.shape[-2:] for o in actual] == [(50, 66), (25, 33), (13, 17), (7, 9)]
        for e, a in zip(expected, actual):
            assert e.abs().max() > 0.1  # non-trivial activations
            assert (e - a).abs().max() < 1e-5


@pytest.mark.parametrize('separate_qkv, patch_2d', [(False, True), (True, True), (False, False)])
def test_slowfast_v1_layout_variants_and_idempotence(separate_qkv, patch_2d):
    """SlowFast's MViTv2-era code (fused attn.qkv, PATCH_2D Conv2d stem) and the mixed cases."""
    state = {k: v for k, v in random_v1_b16().state_dict().items()
             if not k.startswith('out_norms.')}
    converted = convert_mvit(to_slowfast_v1(state, separate_qkv, patch_2d))
    assert converted.keys() == state.keys()
    assert all(torch.equal(converted[k], v) for k, v in state.items())
    again = convert_mvit(converted)
    assert list(again) == list(converted)
    assert all(again[k] is converted[k] for k in converted)


def test_slowfast_video_checkpoints_are_rejected(tmp_path):
    slowfast = to_slowfast_v1(MViT('v1-b-16').state_dict())

    def variant(key, value=None, drop=()):
        state = {k: v for k, v in slowfast.items() if k not in drop}
        state[key] = value if value is not None else torch.zeros(1, 8, 96)
        return state

    cases = {
        # Kinetics MVIT_B_16x4_CONV: PATCH_KERNEL (3, 7, 7), POOL_KVQ_KERNEL (3, 3, 3).
        'patch_embed.proj.weight': variant('patch_embed.proj.weight', torch.zeros(96, 3, 3, 7, 7)),
        'blocks.0.attn.pool_k.weight': variant('blocks.0.attn.pool_k.weight',
                                               torch.zeros(96, 1, 3, 3, 3)),
        # SEP_POS_EMBED: space, time and class position embeddings instead of pos_embed.
        'pos_embed_temporal': variant('pos_embed_temporal', drop=('pos_embed', )),
        # MViTv2 video: temporal relative positions.
        'blocks.0.attn.rel_pos_t': variant('blocks.0.attn.rel_pos_t', torch.zeros(15, 96)),
    }
    for key, state in cases.items():
        with pytest.raises(ValueError, match=re.escape(key)) as error:
            convert_mvit(state)
        assert 'video' in str(error.value)
    # Through init_cfg too: the error names the key before anything is loaded.
    path = tmp_path / 'k400.pyth'
    torch.save({'model_state': cases['patch_embed.proj.weight']}, path)
    model = MViT('v1-b-16', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(ValueError, match=r'patch_embed\.proj\.weight: temporal kernel size 3'):
        model.init_weights()
    # A half-split attention projection is an error, not a silently missing qkv.
    incomplete = {k: v for k, v in slowfast.items() if k != 'blocks.2.attn.k.bias'}
    with pytest.raises(ValueError, match=r'blocks\.2\.attn\.k\.bias'):
        convert_mvit(incomplete)
    # SlowFast's NORM_STEM LayerNorm has no counterpart in mmvitx: loading without it is wrong.
    with pytest.raises(ValueError, match=r'norm_stem\.weight: .*NORM_STEM'):
        convert_mvit(variant('norm_stem.weight', torch.ones(96)))


def test_training_step_matches_timm():
    """Same gradients as timm's MViTv2-T after a training step (mmvitx's MLPs keep only their
    hidden pre-activations; the relative-position attention runs as extra channels)."""
    reference = random_timm_mvit('mvitv2_tiny')
    timm_state = reference.state_dict()
    model = MViT('t', out_indices=(3, ))
    model.load_state_dict(convert_mvit(timm_state), strict=False)
    model.out_norms['3'].load_state_dict(
        {'weight': timm_state['norm.weight'], 'bias': timm_state['norm.bias']})
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    assert_training_step_matches(
        model, reference, convert_mvit, lambda m, t: [m(t)[0].flatten(2).transpose(1, 2)],
        lambda m, t: [m.forward_features(t)], x)
