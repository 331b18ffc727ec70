"""ONNX export of every registered family (parametrized over ``BACKBONES``, like
``tests/test_backbones.py``): the smallest preset, with strong random weights, exported by
``mmvitx.deploy.onnx`` with the family's exporter and run in onnxruntime, against PyTorch.

- static export at an odd size (no window or stride multiple);
- dynamic export from a size that is a multiple of every window and stride (224x224), where a
  traced graph could have kept a shortcut that only holds there (no padding, no resizing of
  position terms), checked at two odd sizes and other batch sizes; families that declare static
  sizes get a symbolic batch only;
- float16 export against the float32 model (a family per exporter: CI time);
- ``tools/deploy/export_onnx.py`` on an mmseg and an mmpose config, and its errors.
"""
import importlib.util
from pathlib import Path

import pytest
import torch

from mmvitx.deploy.onnx import (EXPORTERS, OnnxExportError, compare_with_onnxruntime,
                                export_onnx, verification_inputs, verification_sizes)
from mmvitx.models.backbones import BACKBONES
from mmvitx.testing.references import strong_randomize_

pytest.importorskip('onnxruntime', reason='requirements/deploy.txt is not installed')

REPO = Path(__file__).resolve().parents[1]

FAMILIES = list(BACKBONES)
ODD_SIZE = (97, 131)
WINDOW_MULTIPLE_SIZE = (224, 224)
# Outputs are of order 1 to 100 (strong random weights); float32 rounding differs between the two
# runtimes' kernels, not the computation. float16 keeps 11 significant bits.
TOLERANCE = {False: (1e-4, 1e-5), True: (1e-2, 2e-3)}  # absolute, relative to the largest output


def smallest_randomized(family):
    cls = BACKBONES[family]
    model = cls(arch=next(iter(cls.arch_zoo)))
    return strong_randomize_(model).eval()


def assert_matches(comparisons, fp16=False):
    absolute, relative = TOLERANCE[fp16]
    for c in comparisons:
        assert c.max_abs_diff <= absolute + relative * c.max_abs_output, c


@pytest.mark.parametrize('family', FAMILIES)
def test_contract_names_an_exporter(family):
    assert BACKBONES[family].onnx_exporter in EXPORTERS


@pytest.mark.parametrize('family', FAMILIES)
def test_static_export_matches_onnxruntime(family, tmp_path):
    model = smallest_randomized(family)
    path = str(tmp_path / f'{family}.onnx')
    example = torch.randn(1, 3, *ODD_SIZE)
    assert export_onnx(model, example, path) == ()
    assert_matches(compare_with_onnxruntime(model, path, verification_inputs(example, (), 1)))


@pytest.mark.parametrize('family', FAMILIES)
def test_dynamic_export_matches_onnxruntime_at_other_sizes(family, tmp_path):
    model = smallest_randomized(family)
    path = str(tmp_path / f'{family}.onnx')
    example = torch.randn(2, 3, *WINDOW_MULTIPLE_SIZE)
    dims = export_onnx(model, example, path, dynamic=True)
    assert dims == ((0, 2, 3) if BACKBONES[family].onnx_dynamic_size else (0, ))
    inputs = verification_inputs(example, dims, seed=1)
    assert [x.shape[0] for x in inputs] == [2, 3, 1]
    assert len({x.shape[2:] for x in inputs}) == (3 if len(dims) == 3 else 1)
    assert_matches(compare_with_onnxruntime(model, path, inputs))


@pytest.mark.slow
@pytest.mark.parametrize('family', ['psvit', 'fastervit'])  # one per exporter
def test_fp16_export_matches_float32_model(family, tmp_path):
    model = smallest_randomized(family)
    path = str(tmp_path / f'{family}.onnx')
    example = torch.randn(1, 3, *ODD_SIZE)
    export_onnx(model, example, path, fp16=True)
    assert next(model.parameters()).dtype == torch.float32  # a float16 copy was exported
    comparisons = compare_with_onnxruntime(model, path, verification_inputs(example, (), 1))
    assert comparisons[0].max_abs_diff > 0  # float16 really ran
    assert_matches(comparisons, fp16=True)


def test_the_other_exporter_exports_too(tmp_path):
    model = smallest_randomized('psvit')
    path = str(tmp_path / 'psvit.onnx')
    example = torch.randn(1, 3, *ODD_SIZE)
    export_onnx(model, example, path, exporter='dynamo')
    assert_matches(compare_with_onnxruntime(model, path, verification_inputs(example, (), 1)))
    with pytest.raises(OnnxExportError, match="unknown exporter 'onnx'; one of"):
        export_onnx(model, example, path, exporter='onnx')


def test_verification_sizes_avoid_window_multiples():
    sizes = verification_sizes(512, 1024, dynamic=True)
    assert sizes[0] == (512, 1024) and len(set(sizes)) == 3
    assert all(side % 2 and side % 7 for size in sizes[1:] for side in size)
    assert verification_sizes(*ODD_SIZE, dynamic=False) == [ODD_SIZE]


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'mmvitx_export_onnx_tool', REPO / 'tools' / 'deploy' / 'export_onnx.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_tool_names_what_it_exports(capsys):
    tool = load_tool()
    assert tool.main(['no_such_family']) == 1
    assert "neither a backbone family ['hrformer'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.main(['psvit', '--img-size', '97by131'])
    assert 'size must be HxW' in capsys.readouterr().err


def test_tool_exports_segmentor_with_dynamic_sizes(tmp_path, capsys):
    out = tmp_path / 'seg.onnx'
    config = REPO / 'configs' / 'hrformer' / 'hrformer-t_ocr_cityscapes-demo.py'
    assert load_tool().main([str(config), '--img-size', '64x96', '--dynamic', '--verify',
                             '--out', str(out)]) == 0
    log = capsys.readouterr().out
    assert 'dynamic batch, height and width, float32, torchscript exporter' in log
    assert log.count(' ok') == 3 and 'input 2x3x51x121' in log
    import onnxruntime
    session = onnxruntime.InferenceSession(str(out), providers=['CPUExecutionProvider'])
    logits = session.run(None, {'input': torch.randn(1, 3, 45, 77).numpy()})[0]
    assert logits.shape == (1, 19, 45, 77)  # Cityscapes classes at the input size


@pytest.mark.slow
def test_tool_exports_pose_config_statically_where_family_is_static(tmp_path, capsys):
    out = tmp_path / 'pose.onnx'
    config = REPO / 'configs' / 'fastervit' / 'fastervit-0_simplebaseline_coco-256x192.py'
    assert load_tool().main([str(config), '--dynamic', '--verify', '--out', str(out)]) == 0
    log = capsys.readouterr().out
    assert 'FasterViT exports with static sizes only' in log
    assert 'dynamic batch, static 256x192' in log
    assert log.count(' ok') == 3 and 'input 2x3x256x192' in log  # the codec's input size
    import onnxruntime
    session = onnxruntime.InferenceSession(str(out), providers=['CPUExecutionProvider'])
    heatmaps = session.run(None, {'input': torch.randn(3, 3, 256, 192).numpy()})[0]
    assert heatmaps.shape == (3, 17, 64, 48)
