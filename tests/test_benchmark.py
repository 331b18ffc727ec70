"""tools/analysis/benchmark.py: a run for every family, the JSON fields, ``--compare`` against the
three references (same weights, matching outputs, finite ratios), config models, the plot and the
error messages.

Tiny inputs, one warm-up and two timed steps on one thread; nothing here asserts a timing (the
machine is shared). Most runs call the tool's ``main(argv)`` in-process, which raises the tool's
``BenchmarkError`` where the command line would print ``benchmark.py: error: ...``.
"""
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / 'tools' / 'analysis' / 'benchmark.py'
QUICK = ['--threads', '1', '--warmup', '1', '--repeat', '2']
# FasterViT-0 with stride-16/32 windows of 2: the official model needs map sides that are
# multiples of its windows (7 by default, i.e. inputs of 224, 448, ...), 64 px gives 4 and 2.
FASTERVIT_0_SMALL_WINDOWS = ("{'embed_dims': 64, 'stem_dims': 64, 'depths': (2, 3, 6, 5), "
                             "'num_heads': (2, 4, 8, 16), 'window_sizes': (7, 7, 2, 2)}")


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('mmvitx_benchmark_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def run(tool):
    """``run(*args)``: the tool in-process with quick settings. Restores what it changes for the
    rest of the session: torch's thread count and (``--config``) mmengine's default scope."""
    from mmengine.registry import DefaultScope
    threads = torch.get_num_threads()
    scopes = DefaultScope._instance_dict.copy()
    yield lambda *args: tool.main([str(a) for a in args] + QUICK)
    torch.set_num_threads(threads)
    DefaultScope._instance_dict = scopes


def finite(value):
    return isinstance(value, (int, float)) and math.isfinite(value)


def check_row(row, mode, size, batch=1):
    assert row['mode'] == mode and row['img_size'] == list(size) and row['batch_size'] == batch
    assert row['params'] > 0 and row['device'] == 'cpu' and row['amp'] is False
    assert row['gflops'] is None or row['gflops'] > 0
    latency = row['latency_ms']
    assert len(latency['samples']) == 2
    assert all(finite(latency[k]) and latency[k] > 0 for k in ('median', 'min', 'max', 'mean'))
    assert latency['min'] <= latency['q1'] <= latency['median'] <= latency['q3'] <= latency['max']
    assert finite(latency['iqr']) and finite(latency['std'])
    assert finite(row['throughput']['median']) and row['throughput']['median'] > 0
    assert finite(row['peak_memory_mb']) and row['peak_memory_mb'] > 0


@pytest.mark.parametrize('family, arch', [('hrformer', 't'), ('fastervit', '0'), ('mvit', 't'),
                                          ('psvit', 't')])
def test_every_family_runs_and_writes_json(run, tmp_path, family, arch):
    path = tmp_path / 'out.json'
    report = run(family, '--arch', arch, '--img-size', '64', '--mode', 'infer', 'train',
                 '--json', path)
    saved = json.loads(path.read_text())
    assert saved['results'] == json.loads(json.dumps(report['results']))
    assert saved['settings']['family'] == family and saved['settings']['arch'] == arch
    assert saved['settings']['img_sizes'] == [[64, 64]] and saved['comparisons'] == []
    env = saved['environment']
    assert env['threads'] == 1 and env['device'] == 'cpu' and env['torch'] == torch.__version__
    assert 'profiler' in env['memory_method']
    rows = saved['results']
    assert [r['mode'] for r in rows] == ['infer', 'train']
    for row, mode in zip(rows, ('infer', 'train')):
        check_row(row, mode, (64, 64))
        assert row['impl'] == 'mmvitx' and not row['is_reference']
        assert row['gflops'] > 0 and row['flops_of'] == 'backbone'
    assert rows[0]['params'] == rows[1]['params']


def check_comparison(report, modes, size=(64, 64)):
    comparisons = report['comparisons']
    assert [c['mode'] for c in comparisons] == list(modes)
    for comparison in comparisons:
        assert comparison['outputs_match'], comparison
        assert comparison['max_abs_diff'] <= comparison['tolerance']
        assert comparison['img_size'] == list(size)
        for key in ('latency_ratio', 'throughput_ratio', 'memory_ratio'):
            assert finite(comparison[key]) and comparison[key] > 0, key
        assert all(finite(comparison['speed'][k]) for k in ('median', 'q1', 'q3'))
    rows = report['results']
    assert len(rows) == 2 * len(modes)
    for own, ref in zip(rows[::2], rows[1::2]):
        assert not own['is_reference'] and ref['is_reference']
        check_row(own, own['mode'], size)
        check_row(ref, ref['mode'], size)


@pytest.mark.slow
def test_compare_fastervit_with_the_official_model(run):
    pytest.importorskip('fastervit.models.faster_vit')
    report = run('fastervit', '--arch', FASTERVIT_0_SMALL_WINDOWS, '--img-size', '64',
                 '--mode', 'infer', 'train', '--compare')
    check_comparison(report, ('infer', 'train'))
    own, ref = report['results'][:2]
    assert own['params'] == ref['params']  # the same network (classifier excluded)
    assert 'official' in ref['impl']


def test_compare_fastervit_rejects_sizes_the_official_model_cannot_take(run, tool):
    pytest.importorskip('fastervit.models.faster_vit')
    with pytest.raises(tool.BenchmarkError, match='multiples of 224'):
        run('fastervit', '--arch', '0', '--img-size', '64', '--compare')


@pytest.mark.slow
def test_compare_hrformer_with_mmpose(run):
    report = run('hrformer', '--arch', 't', '--img-size', '64', '--compare', '--no-flops')
    check_comparison(report, ('infer', ))
    assert report['results'][0]['params'] == report['results'][1]['params']


@pytest.mark.slow
def test_compare_with_activation_checkpointing(run):
    """``with_cp`` changes how mmvitx computes, not what: allowed with --compare, and named."""
    report = run('hrformer', '--arch', 't', '--img-size', '64', '--mode', 'train', '--compare',
                 '--no-flops', '--model-args', 'with_cp=True')
    check_comparison(report, ('train', ))
    assert report['results'][0]['name'] == 'HRFormer-t (with_cp=True)'
    assert report['results'][1]['name'] == 'HRFormer-t'  # the reference keeps its defaults
    # Only the block inputs are kept for the backward (measured: 0.56x mmpose's peak).
    assert report['comparisons'][0]['memory_ratio'] < 0.8


@pytest.mark.slow
def test_compare_mvit_with_timm(run):
    pytest.importorskip('timm')
    report = run('mvit', '--arch', 't', '--img-size', '64', '--compare', '--no-flops')
    check_comparison(report, ('infer', ))
    assert 'mvitv2_tiny' in report['results'][1]['impl']


@pytest.mark.slow
def test_interleaved_sizes_report_time_against_size(run):
    """--interleave-sizes: every size timed in each repeat; each size's time relative to the
    first is the median of the per-repeat ratios of the rows' own samples."""
    report = run('fastervit', '--arch', '0', '--img-size', '64', '96x128', '--interleave-sizes',
                 '--mode', 'infer', 'train', '--no-flops')
    rows = report['results']
    assert [(r['mode'], r['img_size']) for r in rows] == [
        ('infer', [64, 64]), ('infer', [96, 128]), ('train', [64, 64]), ('train', [96, 128])]
    for row in rows:
        check_row(row, row['mode'], row['img_size'])
    assert [s['mode'] for s in report['scaling']] == ['infer', 'train']
    for scaling, (small, large) in zip(report['scaling'], (rows[:2], rows[2:])):
        assert scaling['img_size'] == [96, 128] and scaling['baseline_size'] == [64, 64]
        assert scaling['pixel_ratio'] == 3.
        ratios = [b / a for a, b in zip(small['latency_ms']['samples'],
                                        large['latency_ms']['samples'])]
        assert scaling['time_ratio']['median'] == pytest.approx(statistics.median(ratios))
        assert scaling['time_per_pixel_ratio'] == pytest.approx(
            scaling['time_ratio']['median'] / 3.)


@pytest.mark.parametrize('config, size, flops_of', [
    ('hrformer-t_fcn_cityscapes.py', '64x96', "mode='tensor'"),
    ('hrformer-t_faster-rcnn_coco.py', '64', 'backbone + neck'),  # RoI heads are not traced
])
@pytest.mark.slow
def test_config_models(run, config, size, flops_of):
    """A segmentor (inference, then losses on a random label map) and a detector (predict, then
    losses on random boxes), whole model, at a tiny size."""
    report = run('--config', REPO / 'tests' / 'data' / 'learning' / config, '--img-size', size,
                 '--mode', 'infer', 'train')
    rows = report['results']
    assert [r['mode'] for r in rows] == ['infer', 'train']
    height, _, width = size.partition('x')
    for row in rows:
        check_row(row, row['mode'], (int(height), int(width or height)))
        assert row['impl'] == 'config' and row['flops_of'] == flops_of


@pytest.mark.slow
def test_plot_and_command_line(tmp_path):
    """The command line as a user runs it: two sizes, the JSON and the throughput plot."""
    pytest.importorskip('matplotlib')
    json_path, plot_path = tmp_path / 'psvit.json', tmp_path / 'plots' / 'psvit.png'
    result = subprocess.run(
        [sys.executable, TOOL, 'psvit', '--arch', 't', '--img-size', '32', '64', '--mode',
         'infer', '--no-flops', '--json', json_path, '--plot', plot_path, *QUICK],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr[-3000:]
    assert plot_path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    rows = json.loads(json_path.read_text())['results']
    assert [r['img_size'] for r in rows] == [[32, 32], [64, 64]]
    assert 'PSViT-t' in result.stdout and 'img/s' in result.stdout  # the table
    assert '[benchmark]' in result.stderr  # progress


def test_unknown_family_is_a_clear_command_line_error():
    result = subprocess.run([sys.executable, TOOL, 'swin'], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "unknown family 'swin'; valid: hrformer, fastervit, mvit, psvit" in result.stderr
    assert 'Traceback' not in result.stderr


def test_bad_requests_are_explained(run, tool, monkeypatch):
    with pytest.raises(tool.BenchmarkError, match=r"Unknown FasterViT arch '9'; valid: \['0', '1', '2'"):
        run('fastervit', '--arch', '9')
    with pytest.raises(tool.BenchmarkError, match=r"Unknown MViT arch 'xl'; valid: \['t', 's', 'b'"):
        run('mvit', '--arch', 'xl')
    with pytest.raises(tool.BenchmarkError, match='PSViT has no reference implementation'):
        run('psvit', '--compare')
    with pytest.raises(tool.BenchmarkError, match="'v1-b-16' has no timm counterpart"):
        run('mvit', '--arch', 'v1-b-16', '--compare', '--img-size', '64')
    with pytest.raises(tool.BenchmarkError, match='change how, not what.*not drop_path_rate'):
        run('hrformer', '--compare', '--model-args', 'drop_path_rate=0.1')
    with pytest.raises(tool.BenchmarkError, match='not both'):
        run('hrformer', '--config', 'x.py')
    with pytest.raises(tool.BenchmarkError, match='use one or the other'):
        run('hrformer', '--img-size', '64', '128', '--interleave-sizes', '--compare')
    with pytest.raises(tool.BenchmarkError, match='two or more --img-size'):
        run('hrformer', '--img-size', '64', '--interleave-sizes')
    with pytest.raises(tool.BenchmarkError, match='--device must be cpu, cuda or cuda:N'):
        run('hrformer', '--device', 'tpu')
    if not torch.cuda.is_available():
        with pytest.raises(tool.BenchmarkError, match='CUDA is not available'):
            run('hrformer', '--device', 'cuda')
    # A missing optional reference package is named, with how to install it.
    monkeypatch.setitem(sys.modules, 'timm', None)
    with pytest.raises(tool.BenchmarkError, match='needs the timm package.*pip install timm'):
        run('mvit', '--arch', 't', '--compare', '--img-size', '64')
