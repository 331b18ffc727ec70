"""HRFormer backbone: sizes, shapes at odd inputs, options, registry and checkpoint conversion."""
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmvitx.models.backbones import HRFormer
from mmvitx.models.backbones.hrformer import convert_hrformer
from mmvitx.models.layers import WindowMultiheadAttention
from mmvitx.testing.references import strong_randomize_
from spec_params import HRFORMER_BRANCH_CHANNELS, HRFORMER_POSE_BACKBONE_AND_HEAD_PARAMS
from training_step import assert_training_step_matches

REPO = Path(__file__).resolve().parents[1]
CHANNELS = HRFORMER_BRANCH_CHANNELS


def num_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('arch', ['t', 's', 'b'])
def test_pose_parameter_counts(arch):
    from mmengine.registry import DefaultScope
    from mmpose.models.heads import HeatmapHead
    pose_backbone = HRFormer(arch, out_indices=(0, ))
    # The head builds its loss from the registry of the current scope, which other tests change.
    with DefaultScope.overwrite_default_scope('mmpose'):
        head = HeatmapHead(in_channels=CHANNELS[arch][0], out_channels=17,
                           deconv_out_channels=None)
    assert num_params(pose_backbone) + num_params(head) == HRFORMER_POSE_BACKBONE_AND_HEAD_PARAMS[arch]


def test_pose_output_fuses_highest_resolution_only():
    model = HRFormer('t', out_indices=(0, )).eval()
    last_module = model.stages[3][-1]
    assert list(last_module.fuse_layers) == ['0']
    outs = model(torch.randn(2, 3, 64, 48))
    assert len(outs) == 1 and outs[0].shape == (2, 18, 16, 12)
    assert model.out_channels == (18, )


def test_invalid_arguments_are_explained():
    with pytest.raises(KeyError, match=r"\['t', 's', 'b'\]"):
        HRFormer('xl')
    with pytest.raises(ValueError, match='num_heads'):
        HRFormer(dict(channels=(8, 16, 32, 64), num_modules=(1, 1, 1, 1)))
    with pytest.raises(ValueError, match='out_indices'):
        HRFormer('t', out_indices=(4, ))


def test_custom_arch_dict_and_per_branch_windows():
    model = HRFormer(dict(channels=(8, 16, 32, 64), num_heads=(1, 2, 4, 8),
                          num_modules=(1, 1, 1, 1), num_blocks=1, window_size=(5, 5, 3, 3)))
    attn = model.stages[3][0].branches[3][0].attn
    assert attn.window_size == (3, 3)
    assert attn.attn.relative_position_bias_table.shape == (25, 8)
    outs = model(torch.randn(1, 3, 61, 45))
    assert [o.shape[1] for o in outs] == [8, 16, 32, 64]


def test_window_attention_matches_explicit_softmax():
    torch.manual_seed(0)
    attn = WindowMultiheadAttention(16, 2, (3, 3))
    torch.nn.init.normal_(attn.relative_position_bias_table, std=1.0)
    x = torch.randn(5, 9, 16)
    q, k, v = attn.qkv(x).view(5, 9, 3, 2, 8).permute(2, 0, 3, 1, 4)
    scores = q @ k.transpose(-2, -1) / math.sqrt(8) + attn.position_bias()
    expected = attn.proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(5, 9, 16))
    torch.testing.assert_close(attn(x), expected, atol=1e-5, rtol=1e-5)
    # The bias of offset (0, 0) is the table's centre row for every diagonal entry.
    bias = attn.position_bias()
    centre = attn.relative_position_bias_table[(2 * 3 - 1) * 2 + 2]
    torch.testing.assert_close(bias.diagonal(dim1=1, dim2=2), centre[:, None].expand(2, 9))


def test_drop_path_schedule():
    model = HRFormer('t', drop_path_rate=0.3)
    rates = [block.drop_path.drop_prob if hasattr(block.drop_path, 'drop_prob') else 0.
             for stage in model.stages[1:] for module in stage for block in module.branches[0]]
    assert len(rates) == 12  # 2 blocks x (1 + 3 + 2) modules
    assert rates[0] == 0 and rates[-1] == pytest.approx(0.3)
    assert rates == sorted(rates)
    # Every branch of a module shares the module's rates.
    module = model.stages[3][0]
    assert [b[1].drop_path.drop_prob for b in module.branches] == [rates[9]] * 4


def test_frozen_stages_and_norm_eval():
    model = HRFormer('t', frozen_stages=2, norm_eval=True)
    model.train()
    frozen = [model.stem, model.stages[0], model.transitions[0], model.stages[1]]
    for module in frozen:
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules())
    assert all(p.requires_grad for p in model.stages[2].parameters())
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))
    assert model.stages[2][0].branches[0][0].norm1.training  # LayerNorms keep training mode


def test_eval_batchnorms_are_folded_into_convolutions():
    """BatchNorms in eval mode (inference, norm_eval) are folded into their convolutions: none
    runs over a feature map (outputs unchanged: the converter tests compare with mmpose). In
    training mode they normalise with batch statistics. Outputs are NCHW-contiguous although
    the network runs channels-last."""
    x = torch.randn(2, 3, 64, 64)
    for norm_eval in (False, True):
        model = HRFormer('t', norm_eval=norm_eval)
        calls = []
        for module in model.modules():
            if isinstance(module, _BatchNorm):
                module.register_forward_hook(lambda *_: calls.append(1))
        with torch.no_grad():
            outs = model.eval()(x)
        assert not calls and all(o.is_contiguous() for o in outs)
        model.train()(x)
        assert bool(calls) != norm_eval


# ----------------------------------------------------------------------------- conversion
def mmpose_hrformer(arch, multiscale_output):
    from mmpose.models.backbones import HRFormer as MMPoseHRFormer
    channels = CHANNELS[arch]
    heads = {'t': (1, 2, 4, 8), 's': (1, 2, 4, 8), 'b': (2, 4, 8, 16)}[arch]
    modules = {'t': (1, 3, 2), 's': (1, 4, 2), 'b': (1, 4, 2)}[arch]
    extra = dict(drop_path_rate=0., stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                                                num_blocks=(2, ), num_channels=(64, )))
    for stage, n in zip((2, 3, 4), modules):
        extra[f'stage{stage}'] = dict(
            num_modules=n, num_branches=stage, block='HRFORMERBLOCK', num_blocks=(2, ) * stage,
            num_channels=channels[:stage], num_heads=heads[:stage], window_sizes=(7, ) * stage,
            mlp_ratios=(4, ) * stage)
    extra['stage4']['multiscale_output'] = multiscale_output
    model = MMPoseHRFormer(extra)
    randomize(model)
    model.eval()  # mmpose's train() override returns None: no chaining
    return model


def randomize(model):
    """Weights and BN statistics at a trained model's scale, so that a wrong mapping cannot go
    unnoticed."""
    strong_randomize_(model)


def to_official_layout(mmpose_state):
    """The official release's key layout (HRNet/HRFormer's classification model: separate
    q/k/v projections, ``mlp`` and ``out_proj`` names), from mmpose's, plus its ImageNet head."""
    official = {}
    for key, value in mmpose_state.items():
        key = key.replace('.ffn.', '.mlp.').replace('.attn.attn.proj.', '.attn.attn.out_proj.')
        if '.attn.attn.qkv.' in key:
            prefix, param = key.split('.attn.attn.qkv.')
            for name, part in zip('qkv', value.chunk(3)):
                official[f'{prefix}.attn.attn.{name}_proj.{param}'] = part.clone()
            continue
        official[key] = value
    official['classifier.weight'] = torch.zeros(1000, 2048)
    official['final_layer.0.weight'] = torch.zeros(2048, 1024, 1, 1)
    return official


@pytest.mark.parametrize('multiscale', [True, False])
@pytest.mark.parametrize('layout', ['mmpose', 'official'])
def test_converter_matches_mmpose_outputs(layout, multiscale):
    reference = mmpose_hrformer('t', multiscale)
    state = reference.state_dict()
    if layout == 'official':
        state = to_official_layout(state)
    model = HRFormer('t', out_indices=(0, 1, 2, 3) if multiscale else (0, ))
    model.load_state_dict(convert_hrformer(state), strict=True)
    model.eval()
    # 224x160 needs window padding at every resolution but the lowest; 256x192 is the pose input.
    for size in ((224, 160), (256, 192)):
        x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            expected, actual = reference(x), model(x)
        assert len(actual) == len(expected) == (4 if multiscale else 1)
        for e, a in zip(expected, actual):
            assert e.abs().max() > 0.1  # non-trivial activations
            assert (e - a).abs().max() < 1e-4 * max(1, e.abs().max())


def test_converter_is_idempotent_and_cli_roundtrip(tmp_path):
    reference = mmpose_hrformer('t', True)
    official = to_official_layout(reference.state_dict())
    converted = convert_hrformer(official)
    assert convert_hrformer(converted).keys() == converted.keys()

    src, dst = tmp_path / 'hrt_tiny.pth', tmp_path / 'hrformer-t_in1k.pth'
    torch.save({'model': official}, src)
    result = subprocess.run([sys.executable, 'tools/convert_checkpoint.py', 'hrformer', str(src),
                             str(dst)], cwd=REPO, capture_output=True, text=True, check=True)
    assert 'Converted' in result.stdout
    model = HRFormer('t', init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    model.init_weights()
    model.eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        for e, a in zip(reference(x), model(x)):
            assert (e - a).abs().max() < 1e-4


def test_pretrained_of_another_variant_is_rejected(tmp_path):
    path = tmp_path / 'small.pth'
    torch.save({'state_dict': HRFormer('s').state_dict()}, path)
    model = HRFormer('t', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(ValueError, match='another variant'):
        model.init_weights()


def test_training_step_matches_mmpose():
    """Same gradients and BatchNorm statistics as mmpose's HRFormer after a training step at a
    size that needs window padding at every resolution (mmvitx's leaner backward passes in
    stage 1, the FFNs, the fuse layers and the window attention all run)."""
    reference = mmpose_hrformer('t', True)
    model = HRFormer('t')
    model.load_state_dict(convert_hrformer(reference.state_dict()))
    x = torch.randn(2, 3, 96, 64, generator=torch.Generator().manual_seed(1))
    assert_training_step_matches(model, reference, convert_hrformer, lambda m, t: m(t),
                                 lambda m, t: m(t), x)
