"""Checkpoints that do not fit their backbone are errors, in ``tools/convert_checkpoint.py`` and in
``init_cfg=dict(type='Pretrained', ...)`` loading (``mmvitx/models/pretrained.py``).

The converter checks the converted weights against the family's presets; loading checks them
against the built backbone. Both accept only the absence of the family's
``keys_missing_from_release`` (the output norms mmvitx adds), name ``pretrain_img_size`` where only
the weights that follow the pretraining input size differ, and load or write partial weights only
when asked to (``strict=False``, ``--allow-partial``).
"""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mmvitx.models.backbones import BACKBONES, FasterViT, MViT, PSViT
from mmvitx.models.pretrained import key_matcher

REPO = Path(__file__).resolve().parents[1]
CONVERTER = REPO / 'tools' / 'convert_checkpoint.py'
# Small custom archs for loading into real (not meta) backbones.
MVIT_V2 = dict(embed_dims=16, num_heads=1, depths=(1, 1, 1, 1))
MVIT_V1 = dict(MViT.arch_zoo['v1-b-16'], embed_dims=16, depths=(1, 1, 1, 1))
PSVIT = dict(embed_dims=(16, 32, 64), num_heads=(1, 2, 4), layers=('B', 'B', 'B'))


def release_weights(backbone_cls, arch, **options) -> dict:
    """A release checkpoint's weights for a preset: the backbone's keys and shapes without the
    output norms mmvitx adds, each tensor a broadcast zero (a few bytes in the file, whatever
    the preset's size). The shapes come from a build on the meta device."""
    with torch.device('meta'):
        shapes = {k: v.shape for k, v in backbone_cls(arch=arch, **options).state_dict().items()}
    return {k: torch.zeros(()).expand(shape) for k, shape in shapes.items()
            if not k.startswith('out_norms.')}


def save(path: Path, state_dict: dict, wrapper: str = 'state_dict') -> Path:
    torch.save({wrapper: state_dict}, path)
    return path


@pytest.fixture(scope='module')
def converter():
    """tools/convert_checkpoint.py as a module, to run its main() in this process (the presets
    it checks against are built once)."""
    spec = importlib.util.spec_from_file_location('convert_checkpoint', CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def convert(converter, monkeypatch, capsys, *args) -> tuple[str | None, str, str]:
    """Run the converter's main(); (its exit message or None, stdout, stderr)."""
    monkeypatch.setattr(sys, 'argv', ['convert_checkpoint.py', *map(str, args)])
    try:
        converter.main()
        message = None
    except SystemExit as exit_:
        assert isinstance(exit_.code, str), exit_.code  # a message: exit status 1
        message = exit_.code
    out, err = capsys.readouterr()
    return message, out, err



# ----------------------------------------------------------------------------- the converter
def test_converter_cli_rejects_another_familys_checkpoint(tmp_path):
    src = save(tmp_path / 'fastervit_0_224_1k.pth', release_weights(FasterViT, '0'))
    dst = tmp_path / 'mvit.pth'
    result = subprocess.run([sys.executable, str(CONVERTER), 'mvit', str(src), str(dst)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert f'{src} does not fit mvit; nothing written.' in result.stderr
    assert 'It is not a mvit checkpoint' in result.stderr
    assert 'stem.0.conv.weight' in result.stderr  # a name no MViT has
    assert 'It fits fastervit: python tools/convert_checkpoint.py fastervit' in result.stderr
    assert '--allow-partial' in result.stderr
    assert not dst.exists()


def test_converter_allow_partial_writes_with_a_warning(converter, monkeypatch, capsys, tmp_path):
    src = save(tmp_path / 'fastervit.pth', release_weights(FasterViT, '0'))
    dst = tmp_path / 'mvit.pth'
    message, out, err = convert(converter, monkeypatch, capsys, 'mvit', src, dst, '--allow-partial')
    assert message is None and dst.is_file()
    assert 'Converted 387 tensors' in out
    assert err.startswith('Warning: It is not a mvit checkpoint')


def test_converter_names_the_preset_and_the_weights_it_lacks(converter, monkeypatch, capsys,
                                                              tmp_path):
    weights = release_weights(MViT, 't')
    src = save(tmp_path / 'MViTv2_T_in1k.pyth', weights, wrapper='model_state')
    message, out, err = convert(converter, monkeypatch, capsys, 'mvit', src, tmp_path / 'ok.pth')
    assert message is None and not err
    assert "They fit the mvit preset 't'" in out
    assert '8 weights mmvitx adds stay at their initialisation when it loads (out_norms.)' in out

    del weights['blocks.3.attn.qkv.weight']
    save(src, weights, wrapper='model_state')
    dst = tmp_path / 'lacking.pth'
    message, out, err = convert(converter, monkeypatch, capsys, 'mvit', src, dst)
    assert message.startswith(f'{src} does not fit mvit; nothing written.')
    assert "It lacks weights of the mvit preset 't', which it fits otherwise:" in message
    assert '1 missing: blocks.3.attn.qkv.weight' in message
    assert not dst.exists()


def test_converter_names_pretrain_img_size(converter, monkeypatch, capsys, tmp_path):
    src = save(tmp_path / 'mvitv2-t_384.pth', release_weights(MViT, 't', pretrain_img_size=384))
    message, out, err = convert(converter, monkeypatch, capsys, 'mvit', src, tmp_path / 'out.pth')
    assert message is None
    assert ("They fit the mvit preset 't' pretrained at another input size. Set the backbone's "
            'pretrain_img_size=384') in out


def test_converter_warns_about_a_custom_arch(converter, monkeypatch, capsys, tmp_path):
    src = save(tmp_path / 'custom.pth', MViT(MVIT_V2).state_dict())
    message, out, err = convert(converter, monkeypatch, capsys, 'mvit', src, tmp_path / 'out.pth')
    assert message is None and (tmp_path / 'out.pth').is_file()
    assert err.startswith('Warning: They fit no mvit preset (a custom arch?)')
    assert "The closest preset, 't'" in err


@pytest.mark.parametrize('contents, trust_pickle, expected', [
    (b'<html>502 Bad Gateway</html>', False, "is not a checkpoint: it is a text file"),
    (b'', True, 'is empty (0 bytes)'),
    (None, True, 'is truncated or corrupt'),  # a truncated torch.save file
])
def test_converter_names_what_is_wrong_with_the_file(converter, monkeypatch, capsys, tmp_path,
                                                    contents, trust_pickle, expected):
    """Also with --trust-pickle, which changes nothing for files that are no checkpoint."""
    src = tmp_path / 'download.pth'
    if contents is None:
        save(src, {'w': torch.arange(1000.)})
        contents = src.read_bytes()[:1500]
    src.write_bytes(contents)
    message, _, _ = convert(converter, monkeypatch, capsys, 'mvit', src, tmp_path / 'out.pth',
                            *(['--trust-pickle'] if trust_pickle else []))
    assert message.startswith(f'{src} {expected}')
    assert 'trust-pickle' not in message


# ----------------------------------------------------------------------------- Pretrained loading
def pretrained(backbone_cls, arch, path, **options):
    init_cfg = dict(type='Pretrained', checkpoint=str(path))
    init_cfg.update(options.pop('init', {}))
    return backbone_cls(arch=arch, init_cfg=init_cfg, **options)


@pytest.mark.parametrize('family', BACKBONES)
def test_release_checkpoint_of_each_family_loads_strictly(family, tmp_path):
    """Every family's keys_missing_from_release covers what its release checkpoints lack (the
    output norms), and nothing else may be missing."""
    backbone_cls = BACKBONES[family]
    arch = next(iter(backbone_cls.arch_zoo))
    weights = release_weights(backbone_cls, arch)
    pretrained(backbone_cls, arch, save(tmp_path / 'release.pth', weights)).init_weights()
    release = key_matcher(backbone_cls.keys_missing_from_release)
    weights.pop(next(k for k in reversed(weights)
                     if not (k.endswith('num_batches_tracked') or release.match(k))))
    with pytest.raises(ValueError, match='1 missing: '):
        pretrained(backbone_cls, arch, save(tmp_path / 'lacking.pth', weights)).init_weights()


@pytest.mark.parametrize('family, arch, saved_outputs, loaded_outputs', [
    ('hrformer', 't', (0, 1, 2, 3), (0, )),  # a pose config over a classification checkpoint
    ('psvit', 't', (3, ), (0, 1, 2, 3)),  # a dense model over an ImageNet classifier's backbone
    ('psvit', 't', (0, 1, 2, 3), (3, )),
])
def test_checkpoint_of_other_outputs_loads_strictly(family, arch, saved_outputs, loaded_outputs,
                                                    tmp_path):
    """Layers built for some outputs only (HRFormer's last fusions, PSViT's level-0 upsampling)
    may be in the checkpoint and not in the backbone, or the other way round."""
    backbone_cls = BACKBONES[family]
    weights = release_weights(backbone_cls, arch, out_indices=saved_outputs)
    with torch.device('meta'):
        loaded_keys = set(backbone_cls(arch=arch, out_indices=loaded_outputs).state_dict())
    assert set(weights) - loaded_keys or loaded_keys - set(weights) - {
        k for k in loaded_keys if k.startswith('out_norms.')}  # the outputs change the layers
    path = save(tmp_path / 'other_outputs.pth', weights)
    pretrained(backbone_cls, arch, path, out_indices=loaded_outputs).init_weights()
    weights.pop(next(k for k in reversed(weights) if k in loaded_keys and 'stages.0' not in k
                     and not k.endswith('num_batches_tracked')))
    with pytest.raises(ValueError, match='1 missing: '):
        pretrained(backbone_cls, arch, save(tmp_path / 'lacking.pth', weights),
                   out_indices=loaded_outputs).init_weights()


def test_pretrained_rejects_another_familys_checkpoint(tmp_path):
    path = save(tmp_path / 'fastervit.pth', release_weights(FasterViT, '0'))
    model = pretrained(MViT, MVIT_V2, path)
    with pytest.raises(ValueError) as error:
        model.init_weights()
    message = str(error.value)
    assert message.startswith(f'{path} does not fit MViT (is it another variant, or another '
                              "family's checkpoint? `python tools/convert_checkpoint.py mvit")
    assert 'unexpected (not in the backbone): stem.0.conv.weight' in message
    assert 'missing: patch_embed.proj.weight' in message
    assert "set init_cfg=dict(type='Pretrained', checkpoint=..., strict=False)" in message


@pytest.mark.parametrize('change, expected', [
    ('drop', '1 missing: blocks.2.attn.qkv.weight'),
    ('add', '1 unexpected (not in the backbone): blocks.9.attn.qkv.weight'),
    ('reshape', '1 of another shape: blocks.2.attn.qkv.weight (8, 32) (backbone (192, 32))'),
])
def test_pretrained_rejects_a_checkpoint_that_does_not_fit(change, expected, tmp_path):
    weights = {k: v for k, v in MViT(MVIT_V2).state_dict().items()
               if not k.startswith('out_norms.')}
    if change == 'drop':
        del weights['blocks.2.attn.qkv.weight']
    elif change == 'add':
        weights['blocks.9.attn.qkv.weight'] = torch.zeros(3)
    else:
        weights['blocks.2.attn.qkv.weight'] = torch.zeros(8, 32)
    path = save(tmp_path / 'mvit.pth', weights)
    with pytest.raises(ValueError, match='another variant') as error:
        pretrained(MViT, MVIT_V2, path).init_weights()
    assert f'\n  {expected}\n' in str(error.value)
    assert 'out_norms' not in str(error.value)  # missing from every release: not a problem


def test_pretrained_loads_a_release_checkpoint_without_output_norms(tmp_path, warnings_logged):
    torch.manual_seed(0)
    source = MViT(MVIT_V2)
    release = {k: v for k, v in source.state_dict().items() if not k.startswith('out_norms.')}
    model = pretrained(MViT, MVIT_V2, save(tmp_path / 'mvit.pth', release))
    model.init_weights()
    state = model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in release.items())
    assert not warnings_logged


def test_pretrained_strict_false_loads_what_fits_and_warns(tmp_path, warnings_logged):
    torch.manual_seed(0)
    weights = {k: v for k, v in MViT(MVIT_V2).state_dict().items()
               if not k.startswith('out_norms.')}
    del weights['blocks.1.attn.proj.weight']
    weights['blocks.2.attn.qkv.weight'] = torch.zeros(8, 32)
    weights['blocks.9.attn.qkv.weight'] = torch.zeros(3)
    model = pretrained(MViT, MVIT_V2, save(tmp_path / 'mvit.pth', weights),
                       init=dict(strict=False))
    torch.manual_seed(1)
    model.init_weights()
    state = model.state_dict()
    loaded = [k for k in weights if k in state and state[k].shape == weights[k].shape]
    assert len(loaded) == len(weights) - 2
    assert all(torch.equal(state[k], weights[k]) for k in loaded)
    assert state['blocks.2.attn.qkv.weight'].abs().sum() > 0  # kept at its initialisation
    warning, = warnings_logged
    assert warning.startswith(f'Loaded {len(loaded)} of the {len(state)} weights of MViT from '
                              f'{tmp_path / "mvit.pth"} (strict=False).')
    assert '1 missing: blocks.1.attn.proj.weight' in warning
    assert '1 unexpected (not in the backbone): blocks.9.attn.qkv.weight' in warning
    assert '1 of another shape: blocks.2.attn.qkv.weight' in warning


@pytest.mark.parametrize('arch, size', [(MVIT_V2, 384), (MVIT_V1, 320)])
def test_pretrained_at_another_size_names_pretrain_img_size(arch, size, tmp_path):
    """MViTv2's relative-position tables and v1's position embedding follow the pretraining
    input size; the error gives the size they imply, and with it set the weights load."""
    weights = MViT(arch, pretrain_img_size=size).state_dict()
    path = save(tmp_path / f'mvit_{size}.pth', weights)
    with pytest.raises(ValueError) as error:
        pretrained(MViT, arch, path).init_weights()
    message = str(error.value)
    assert message.startswith(f'{path} was pretrained at another input size than MViT is built '
                              'for')
    assert f"Set the backbone's pretrain_img_size={size} (the size these shapes imply)" in message
    assert 'another variant' not in message
    model = pretrained(MViT, arch, path, pretrain_img_size=size)
    model.init_weights()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in weights.items())


def test_psvit_at_another_size_names_pretrain_img_size(tmp_path):
    path = save(tmp_path / 'psvit_320.pth', PSViT(PSVIT, pretrain_img_size=320).state_dict())
    with pytest.raises(ValueError) as error:
        pretrained(PSViT, PSVIT, path).init_weights()
    assert ("Set the backbone's pretrain_img_size to the input size the checkpoint was pretrained "
            'at') in str(error.value)
    assert 'pos_embed (1, 1600, 16) (backbone (1, 784, 16))' in str(error.value)


def test_pretrained_names_a_bad_file(tmp_path):
    path = tmp_path / 'mvit.pth'
    path.write_text('version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 42\n')
    with pytest.raises(ValueError, match=f'^{path} is not a checkpoint: it is a text file'):
        pretrained(MViT, MVIT_V2, path).init_weights()
