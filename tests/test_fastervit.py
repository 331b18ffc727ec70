"""FasterViT backbone: exact sizes, any input size with dynamic carrier tokens (equal to the
official any-resolution model, or extrapolated from the pretraining grid), options, inference
caching, registry, and conversion checked against the official ``fastervit`` package."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmvitx.models.backbones import FasterViT
from mmvitx.models.backbones.fastervit import HATBlock, arch_zoo, convert_fastervit
from mmvitx.models.layers import ContinuousPositionBias, GridPositionEmbedding, plain_ops
from mmvitx.testing.references import (build_fastervit_any_res_pair, build_fastervit_pair,
                                       build_float64_pair, strong_randomize_)
from spec_params import fastervit_backbone_params
from training_step import assert_training_step_matches

REPO = Path(__file__).resolve().parents[1]
CHANNELS = {'0': (64, 128, 256, 512), '2': (96, 192, 384, 768)}
# Small but complete: carrier tokens in stage 3, layer scale and stage-end propagation.
TINY = dict(embed_dims=32, stem_dims=16, depths=(1, 1, 2, 2), num_heads=(2, 2, 4, 4),
            layer_scale=1e-5, propagation=True)
# Float64 tolerances relative to the largest output: the official models round the propagated
# carrier tokens to float32 (they upsample them in float32), which shows at about 2e-8.
EXACT = 1e-9
PROPAGATED_IN_FLOAT32 = 1e-7


def num_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('arch', list(arch_zoo))
def test_parameter_counts(arch):
    with torch.device('meta'):  # FasterViT-6 has 1.36 billion parameters
        model = FasterViT(arch)
    assert num_params(model) == fastervit_backbone_params(arch)
    with torch.device('meta'):
        pose_model = FasterViT(arch, out_indices=(3, ))
    assert num_params(pose_model) == fastervit_backbone_params(arch, (3, ))


def capture_carrier_grids(model, x):
    grids = []
    hooks = [m.register_forward_hook(lambda m, args, out: grids.append(tuple(args[1].shape[1:3])))
             for m in model.modules() if isinstance(m, HATBlock) and m.ct_size]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    return grids


@pytest.mark.parametrize('size, grid', [
    ((224, 224), (4, 4)),     # the paper's 14x14 stage-3 map: 2x2 windows, 2x2 tokens each
    ((320, 480), (6, 10)),    # 20x30: padded to 21x35, 3x5 windows
    ((800, 1216), (16, 22)),  # detection-sized: 50x76, padded to 56x77: 8x11 windows
])
def test_carrier_tokens_follow_the_input_size(size, grid):
    model = FasterViT(TINY).eval()
    grids = capture_carrier_grids(model, torch.randn(1, 3, *size))
    assert grids == [grid] * 2  # every block of stage 3 sees the same carrier grid
    outs = model(torch.randn(1, 3, *size))
    assert outs[2].shape[-2:] == (size[0] // 16, size[1] // 16)


def count_position_mlp_calls(model):
    calls = []
    for module in model.modules():
        if isinstance(module, (GridPositionEmbedding, ContinuousPositionBias)):
            module.mlp.register_forward_hook(lambda *args: calls.append(1))
    return calls


def test_inference_caches_position_terms_per_size_and_training_recomputes():
    torch.manual_seed(0)
    model = FasterViT(TINY)
    model.init_weights()
    calls = count_position_mlp_calls(model)
    model.eval()
    x = torch.randn(1, 3, 96, 128)
    with torch.no_grad():
        first = model(x)
        per_forward = len(calls)
        assert per_forward > 0
        second = model(x)
        assert len(calls) == per_forward  # all cached
        model(torch.randn(1, 3, 160, 224))  # a new size: a new carrier grid is computed
        assert len(calls) > per_forward
    for a, b in zip(first, second):
        torch.testing.assert_close(a, b)

    # With autograd (e.g. in training) nothing is cached: the MLPs must receive gradients.
    model.train()
    calls.clear()
    model(x)
    model(x)
    assert len(calls) == 2 * per_forward

    # New weights (a checkpoint load, or an EMA swap) are never served stale cached terms.
    model.eval()
    with torch.no_grad():
        model(x)
        other = FasterViT(TINY)
        other.init_weights()
        for module in other.modules():
            if isinstance(module, (GridPositionEmbedding, ContinuousPositionBias)):
                torch.nn.init.normal_(module.mlp[2].weight)
        model.load_state_dict(other.state_dict())
        other.eval()
        for a, b in zip(model(x), other(x)):
            torch.testing.assert_close(a, b)


def test_inference_after_fused_optimizer_steps_uses_the_new_weights():
    """Fused AdamW updates parameters without bumping their version counters: validation after
    training must still see the trained positional MLPs, not terms cached before training."""
    torch.manual_seed(0)
    model = FasterViT(TINY)
    model.init_weights()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, fused=True)
    x = torch.randn(1, 3, 96, 128)
    model.eval()
    with torch.no_grad():
        model(x)
    model.train()
    sum(out.mean() for out in model(x)).backward()
    optimizer.step()
    model.eval()
    with torch.no_grad():
        cached = model(x)
    for a, b in zip(cached, model(x)):  # with autograd enabled: computed afresh
        torch.testing.assert_close(a, b.detach())


def test_invalid_arguments_are_explained():
    with pytest.raises(KeyError, match=r"'0', '1', '2', '3', '4', '5', '6', '4-21k-224'"):
        FasterViT('7')
    with pytest.raises(ValueError, match='num_heads'):
        FasterViT(dict(embed_dims=32, stem_dims=16, depths=(1, 1, 1, 1)))
    with pytest.raises(ValueError, match='window_sizes'):
        FasterViT(dict(TINY, window_sizes=(7, 7)))
    with pytest.raises(ValueError, match='out_indices'):
        FasterViT('0', out_indices=(4, ))
    assert FasterViT('faster_vit_0_224').arch == FasterViT('0').arch  # official names work
    assert FasterViT(2).arch == FasterViT('2').arch  # a number as in the paper's names


def test_out_indices_select_stages():
    model = FasterViT(TINY, out_indices=(3, )).eval()
    outs = model(torch.randn(2, 3, 64, 48))
    assert len(outs) == 1 and outs[0].shape == (2, 256, 2, 2)
    assert model.out_channels == (256, )
    model = FasterViT(TINY, out_indices=(1, 2))
    assert [o.shape[1] for o in model(torch.randn(1, 3, 64, 64))] == [64, 128]


def test_drop_path_schedule():
    model = FasterViT('0', drop_path_rate=0.2)
    blocks = [block for stage in model.stages for block in stage.blocks]
    rates = [getattr(block.drop_path, 'drop_prob', 0.) for block in blocks]
    assert len(rates) == 16  # 2 + 3 + 6 + 5
    assert rates[0] == 0 and rates[-1] == pytest.approx(0.2)
    assert rates == sorted(rates)


def test_frozen_stages_and_norm_eval():
    model = FasterViT(TINY, frozen_stages=2, norm_eval=True)
    model.train()
    frozen = [model.stem, model.stages[0], model.stages[1], model.downsamples[0],
              model.downsamples[1], model.out_norms['0'], model.out_norms['1']]
    for module in frozen:
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules())
    for module in (model.stages[2], model.downsamples[2], model.out_norms['2']):
        assert all(p.requires_grad for p in module.parameters())
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))
    assert model.stages[2].blocks[0].norm1.training  # LayerNorms keep training mode


# ----------------------------------------------------------------------------- conversion
def official_model(arch):
    """The official FasterViT (``fastervit`` 1.0.0, a test-only reference under a non-commercial
    licence) with weights and BN statistics at a trained model's scale, so that a wrong mapping
    cannot go unnoticed."""
    fastervit = pytest.importorskip('fastervit.models.faster_vit',
                                    reason='the official fastervit 1.0.0 package is not installed')
    if arch == 'tiny':
        model = fastervit.FasterViT(
            dim=TINY['embed_dims'], in_dim=TINY['stem_dims'], depths=list(TINY['depths']),
            window_size=[7] * 4, ct_size=2, mlp_ratio=4, num_heads=list(TINY['num_heads']),
            layer_scale=TINY['layer_scale'], do_propagation=True)
    else:
        model = getattr(fastervit, f'faster_vit_{arch}_224')()
    return strong_randomize_(model).eval()


def official_stage_outputs(model, x):
    """The official model's stage outputs before each downsample."""
    outputs = []
    hooks = [level.downsample.register_forward_pre_hook(lambda m, args: outputs.append(args[0]))
             for level in model.levels[:3]]
    hooks.append(model.levels[3].register_forward_hook(lambda m, args, out: outputs.append(out)))
    with torch.no_grad():
        model.forward_features(x)
    for hook in hooks:
        hook.remove()
    return outputs


@pytest.mark.parametrize('arch', ['tiny', '0'])
def test_converter_matches_official_outputs(arch):
    reference = official_model(arch)
    state = reference.state_dict()
    model = FasterViT(TINY if arch == 'tiny' else arch)
    converted = convert_fastervit(state)
    result = model.load_state_dict(converted, strict=False)
    assert not result.unexpected_keys
    assert all(k.startswith('out_norms.') for k in result.missing_keys), result.missing_keys
    # Dropped: the classifier, the resolution-dependent buffers, and the carrier-token conv's
    # second name (the official module registers it twice).
    dropped = set(state) - {k for k in state if convert_fastervit({k: state[k]})}
    assert dropped and all(k.startswith(('norm.', 'head.')) or 'relative' in k.split('.')[-1]
                           or '.global_tokenizer.pos_embed.' in k for k in dropped), dropped
    model.eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    expected = official_stage_outputs(reference, x)
    with torch.no_grad():
        actual = model(x)
        expected = [model.out_norms[str(i)](e) for i, e in enumerate(expected)]
    for e, a in zip(expected, actual):
        assert e.abs().max() > 0.1  # non-trivial activations
        assert (e - a).abs().max() < 1e-4 * max(1, e.abs().max())


def test_converter_is_idempotent_and_cli_roundtrip(tmp_path):
    reference = official_model('tiny')
    official = reference.state_dict()
    converted = convert_fastervit(official)
    assert convert_fastervit(converted).keys() == converted.keys()

    src, dst = tmp_path / 'fastervit_tiny_224_1k.pth.tar', tmp_path / 'fastervit-tiny_in1k.pth'
    torch.save({'state_dict': official, 'epoch': 310}, src)
    result = subprocess.run([sys.executable, 'tools/convert_checkpoint.py', 'fastervit', str(src),
                             str(dst)], cwd=REPO, capture_output=True, text=True, check=True)
    assert 'Converted' in result.stdout
    model = FasterViT(TINY, out_indices=(3, ),
                      init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    model.init_weights()
    model.eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        expected = model.out_norms['3'](official_stage_outputs(reference, x)[3])
        assert (model(x)[0] - expected).abs().max() < 1e-4


def test_pretrained_of_another_variant_is_rejected(tmp_path):
    path = tmp_path / 'fastervit-1.pth'
    torch.save({'state_dict': FasterViT(dict(TINY, embed_dims=48)).state_dict()}, path)
    model = FasterViT(TINY, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(ValueError, match='another variant'):
        model.init_weights()


def test_training_step_matches_official():
    """Same gradients and BatchNorm statistics as the official FasterViT after a training step
    (stochastic depth off): mmvitx's leaner backward passes of the convolutional stages, the
    carrier-token and window attention and the MLPs all run."""
    reference = official_model('tiny')
    for module in reference.modules():
        if hasattr(module, 'drop_prob'):
            module.drop_prob = 0.
    model = FasterViT(TINY)
    model.load_state_dict(convert_fastervit(reference.state_dict()), strict=False)

    def run_reference(official, x):
        outputs = []
        hooks = [level.downsample.register_forward_pre_hook(
            lambda m, args: outputs.append(args[0])) for level in official.levels[:3]]
        hooks.append(official.levels[3].register_forward_hook(
            lambda m, args, out: outputs.append(out)))
        official.forward_features(x)
        for hook in hooks:
            hook.remove()
        return outputs

    def run_model(model, x):  # the stage outputs, before mmvitx's output norms
        outputs = []
        hooks = [norm.register_forward_pre_hook(lambda m, args: outputs.append(args[0]))
                 for norm in model.out_norms.values()]
        model(x)
        for hook in hooks:
            hook.remove()
        return outputs

    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    assert_training_step_matches(model, reference, convert_fastervit, run_model, run_reference, x,
                                 tolerance=1e-7)


# ----------------------------------------------------------------------------- any resolution
def assert_outputs_equal(actual, expected, tolerance):
    assert len(actual) == len(expected)
    for level, (a, e) in enumerate(zip(actual, expected)):
        assert e.std() > 0.1, level  # strong weights: outputs of order 1
        scale = max(1., float(e.abs().max()))
        assert float((a - e).abs().max()) <= tolerance * scale, level


def float64_input(size):
    return torch.randn(1, 3, *size, dtype=torch.float64, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize('size', [(512, 640), (480, 480)], ids=['512x640', '480x480'])
@pytest.mark.parametrize('arch, tolerance, plain_ops_runs', [
    (TINY, PROPAGATED_IN_FLOAT32, (False, True)),
    ('0', EXACT, (False, )),  # the plain ops of the same layers run with TINY (CPU time)
], ids=['tiny', '0'])
def test_default_mode_equals_the_official_any_res_model(arch, tolerance, plain_ops_runs, size):
    """Non-square (10x12 carrier tokens: no ``hat_pos_embed`` in the official model, whose
    conversion gives a zero term) and square (10x10), both padded to window multiples (stride-16
    maps 32x40 and 30x30), with the speed-up layer and with the plain ops."""
    pytest.importorskip('fastervit', reason='the official fastervit 1.0.0 package is not installed')
    model, reference = build_float64_pair(build_fastervit_any_res_pair, arch, size)
    x = float64_input(size)
    with torch.no_grad():
        expected = reference(x)
        for plain in plain_ops_runs:
            with plain_ops(plain):
                assert_outputs_equal(model(x), expected, tolerance)


def test_extrapolate_mode_is_the_fixed_model_at_224_and_differs_from_any_res_elsewhere():
    pytest.importorskip('fastervit', reason='the official fastervit 1.0.0 package is not installed')
    model, reference = build_float64_pair(build_fastervit_pair, TINY, (224, 224),
                                    carrier_token_mode='extrapolate')
    with torch.no_grad():
        assert_outputs_equal(model(float64_input((224, 224))),
                             reference(float64_input((224, 224))), PROPAGATED_IN_FLOAT32)

    size = (512, 640)
    any_res, reference = build_float64_pair(build_fastervit_any_res_pair, TINY, size)
    extrapolated = FasterViT(TINY, carrier_token_mode='extrapolate').double().eval()
    extrapolated.load_state_dict(any_res.state_dict())
    with torch.no_grad():
        expected, actual = reference(float64_input(size)), extrapolated(float64_input(size))
    assert_outputs_equal(actual[:2], expected[:2], EXACT)  # the convolutional stages
    for a, e in zip(actual[2:], expected[2:]):  # the carrier-token stage and the one after it
        assert float((a - e).abs().max()) > 1e-2 * float(e.abs().max())


def test_single_window_map_has_no_carrier_tokens_as_in_the_official_any_res_model():
    """At 96x96 the stride-16 map (6x6) is one window: the official any-resolution model has no
    carrier-token weights there, and mmvitx's default mode leaves its own unused."""
    official = pytest.importorskip('fastervit.models.faster_vit_any_res',
                                   reason='the official fastervit 1.0.0 package is not installed')
    size = (96, 96)
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        reference = official.FasterViT(
            dim=TINY['embed_dims'], in_dim=TINY['stem_dims'], depths=list(TINY['depths']),
            window_size=[7] * 4, ct_size=2, mlp_ratio=4, num_heads=list(TINY['num_heads']),
            resolution=list(size), drop_path_rate=0., layer_scale=TINY['layer_scale'],
            do_propagation=True)
    finally:
        torch.set_default_dtype(default_dtype)
    reference = strong_randomize_(reference).double().eval()
    model = FasterViT(TINY).double().eval()
    result = model.load_state_dict(convert_fastervit(reference.state_dict()), strict=False)
    assert not result.unexpected_keys
    assert {k.split('.')[4] for k in result.missing_keys if k.startswith('stages.')} == {
        'ct_pos', 'ct_norm1', 'ct_attn', 'ct_ls1', 'ct_norm2', 'ct_ffn', 'ct_ls2'}
    x = float64_input(size)
    with torch.no_grad():
        expected = [model.out_norms[str(i)](e)
                    for i, e in enumerate(official_stage_outputs(reference, x))]
        assert_outputs_equal(model(x), expected, EXACT)
    # The previous behaviour keeps them: a 2x2 carrier grid for the single window.
    extrapolated = FasterViT(TINY, carrier_token_mode='extrapolate').eval()
    assert capture_carrier_grids(extrapolated, torch.randn(1, 3, *size)) == [(2, 2)] * 2


def test_converter_gives_non_square_any_res_checkpoints_a_zero_carrier_position_term(tmp_path):
    """The official any-resolution models built for a non-square input have no ``hat_pos_embed``
    (their only difference in keys from square ones): the converted blocks get a carrier position
    MLP whose output layer is zero, so that the checkpoint loaded from file computes what the
    official model computes, and the term can still be learnt."""
    official = pytest.importorskip('fastervit.models.faster_vit_any_res',
                                   reason='the official fastervit 1.0.0 package is not installed')

    def official_state(size):
        model = official.FasterViT(
            dim=TINY['embed_dims'], in_dim=TINY['stem_dims'], depths=list(TINY['depths']),
            window_size=[7] * 4, ct_size=2, mlp_ratio=4, num_heads=list(TINY['num_heads']),
            resolution=list(size), layer_scale=TINY['layer_scale'], do_propagation=True)
        return model.state_dict()

    square, non_square = official_state((480, 480)), official_state((512, 640))
    assert not set(non_square) - set(square)
    assert {k for k in set(square) - set(non_square) if 'relative_bias' not in k} == {
        f'levels.2.blocks.{j}.hat_pos_embed.cpb_mlp.{name}' for j in range(TINY['depths'][2])
        for name in ('0.weight', '0.bias', '2.weight')}

    model, reference = build_float64_pair(build_fastervit_any_res_pair, TINY, (512, 640))
    state = {k: v.float() for k, v in reference.official.state_dict().items()}
    path = tmp_path / 'fastervit_tiny_512x640.pth.tar'
    torch.save({'state_dict': state}, path)
    loaded = FasterViT(TINY, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    loaded.init_weights()
    converted = convert_fastervit(state)
    assert list(convert_fastervit(converted)) == list(converted)
    for j in range(TINY['depths'][2]):
        block = f'stages.2.blocks.{j}.'
        assert not converted[block + 'ct_pos.mlp.2.weight'].any()
        assert torch.equal(converted[block + 'ct_pos.mlp.0.weight'],
                           converted[block + 'window_pos.mlp.0.weight'])
    loaded.out_norms.load_state_dict(model.out_norms.state_dict())
    loaded = loaded.double().eval()
    x = float64_input((512, 640))
    with torch.no_grad():
        # float32 weights in the file: the reference computes with them too
        reference.official.load_state_dict(state)
        assert_outputs_equal(loaded(x), reference(x), PROPAGATED_IN_FLOAT32)

    loaded.train()
    sum(out.square().mean() for out in loaded(x)).backward()
    assert loaded.stages[2].blocks[0].ct_pos.mlp[2].weight.grad.any()
