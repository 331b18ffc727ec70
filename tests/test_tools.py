"""End-to-end tests of tools/train.py, tools/test.py and tools/dist_*.sh on a tiny real mmseg
config.

Every tool runs in a subprocess exactly as a user would start it. The config
(``tests/data/tiny_fcn_ade20k.py``) trains an FCN for 4 iterations on 64x64 crops of the ADE20K
demo data, with random augmentation and dropout, a checkpoint and a validation every 2 iterations.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import mmvitx.utils  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / 'tools'
CONFIG = REPO / 'tests' / 'data' / 'tiny_fcn_ade20k.py'
TIMEOUT = 300


@pytest.fixture(scope='module')
def env(demo_data):
    """Environment of the tool processes: the demo data root, the current interpreter for the
    dist_*.sh scripts, one thread per process (2 cores, DDP runs 2 processes; runs compared
    bitwise must also use the same number of threads)."""
    return dict(
        os.environ,
        MMVITX_DEMO_ADE=str(demo_data / 'ade' / 'ADEChallengeData2016'),
        PYTHON=sys.executable,
        OMP_NUM_THREADS='1',
    )


def run(args, env, cwd=REPO):
    """Run a command; if it fails, fail the test with its output."""
    result = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=TIMEOUT)
    if result.returncode != 0:
        pytest.fail(f'{args} exited with {result.returncode}:\n{result.stdout[-3000:]}\n'
                    f'{result.stderr[-5000:]}')
    return result


def train(env, *args, cwd=REPO):
    return run([sys.executable, TOOLS / 'train.py', CONFIG, *args], env, cwd=cwd)


def load(path):
    # The tools' checkpoints must load with weights_only=True (mmvitx.utils allow-lists their
    # types).
    return torch.load(path, map_location='cpu', weights_only=True)


def assert_same_tensors(a: dict, b: dict, what: str):
    assert a.keys() == b.keys(), what
    for key in a:
        if torch.is_tensor(a[key]):
            assert torch.equal(a[key], b[key]), f'{what}: {key} differs'


@pytest.fixture(scope='module')
def trained(env, tmp_path_factory):
    """4 iterations straight, started without --work-dir from a scratch directory."""
    cwd = tmp_path_factory.mktemp('straight')
    train(env, cwd=cwd)
    return cwd / 'work_dirs' / 'tiny_fcn_ade20k'


@pytest.mark.slow
def test_train_writes_checkpoints_and_log(trained):
    work_dir = trained
    # The default work dir is ./work_dirs/<config stem>, like the toolboxes' tools.
    assert (work_dir / 'iter_2.pth').is_file() and (work_dir / 'iter_4.pth').is_file()
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('iter_4.pth')
    logs = list(work_dir.glob('*/*.log'))
    assert len(logs) == 1
    log = logs[0].read_text()
    assert re.search(r'Iter\(train\) \[4/4\].*loss: \d', log), log[-2000:]
    assert 'mIoU' in log  # validation ran
    checkpoint = load(work_dir / 'iter_4.pth')
    assert checkpoint['meta']['iter'] == 4
    assert 'random_states' in checkpoint


@pytest.mark.slow
def test_test_loads_checkpoint_and_writes_outputs(trained, env, tmp_path):
    work_dir = trained
    out, show = tmp_path / 'pred', tmp_path / 'show'
    result = run([sys.executable, TOOLS / 'test.py', CONFIG, work_dir / 'iter_4.pth',
                  '--work-dir', tmp_path / 'work', '--out', out, '--show-dir', show], env)
    assert 'Load checkpoint from' in result.stdout + result.stderr
    assert re.search(r'Iter\(test\) \[4/4\].*mIoU: ', result.stdout + result.stderr)
    assert len(list(out.glob('*.png'))) == 4  # one prediction map per test image
    assert len(list(show.rglob('*.png'))) == 4  # one drawing per test image


@pytest.mark.slow
def test_resume_is_exact(trained, env, tmp_path):
    """4 iterations straight == 2 iterations, then resume, then 2 more: same weights and
    optimizer state, bit for bit, for both --resume forms."""
    work_dir = trained
    straight = load(work_dir / 'iter_4.pth')

    # --resume without a path: the latest checkpoint of the work dir.
    auto = tmp_path / 'auto'
    train(env, '--work-dir', auto, '--cfg-options', 'train_cfg.max_iters=2')
    result = train(env, '--work-dir', auto, '--resume')
    output = result.stdout + result.stderr
    assert 'resumed epoch: 0, iter: 2' in output
    assert 'Restoring the random states saved at iteration 2' in output
    # --resume PATH: the straight run's own iteration-2 checkpoint, into a fresh work dir.
    explicit = tmp_path / 'explicit'
    train(env, '--work-dir', explicit, '--resume', work_dir / 'iter_2.pth')

    for resumed_dir in (auto, explicit):
        resumed = load(resumed_dir / 'iter_4.pth')
        assert_same_tensors(straight['state_dict'], resumed['state_dict'], 'weights')
        for param_id, state in straight['optimizer']['state'].items():
            assert_same_tensors(state, resumed['optimizer']['state'][param_id], 'optimizer')


@pytest.mark.slow
def test_distributed_train_and_test_on_cpu(env, tmp_path):
    """2 processes with DDP (gloo) through torchrun; SyncBN in the config becomes BN on CPU."""
    env = dict(env, PORT=str(29500 + os.getpid() % 1000))
    work_dir = tmp_path / 'dist'
    sync_bn = ['model.backbone.norm_cfg.type=SyncBN', 'model.decode_head.norm_cfg.type=SyncBN']
    result = run(['bash', TOOLS / 'dist_train.sh', CONFIG, 2, '--work-dir', work_dir,
                  '--cfg-options', *sync_bn], env)
    output = result.stdout + result.stderr
    assert output.count('gloo backend (2 processes)') == 1  # logged by rank 0 only
    assert output.count('using per-process BN instead') == 1
    assert 'Distributed training: True' in output
    checkpoint = load(work_dir / 'iter_4.pth')
    assert len(checkpoint['random_states']) == 2  # one per rank

    result = run(['bash', TOOLS / 'dist_test.sh', CONFIG, work_dir / 'iter_4.pth', 2,
                  '--work-dir', tmp_path / 'dist_test'], env)
    assert re.search(r'Iter\(test\) \[2/2\].*mIoU: ', result.stdout + result.stderr)  # 4 images / 2


@pytest.mark.skipif(torch.cuda.is_available(), reason='tests the refusal on CPU-only machines')
def test_amp_without_gpu_fails_clearly():
    from mmengine.config import Config
    from mmvitx.utils.toolbox import ToolError, enable_amp
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))))
    with pytest.raises(ToolError, match='--amp needs a GPU'):
        enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'OptimWrapper'


@pytest.mark.parametrize('tool, options', [
    ('train.py', ['config', '--work-dir', '--resume', '--amp', '--cfg-options', '--launcher']),
    ('test.py', ['config', 'checkpoint', '--work-dir', '--out', '--show-dir', '--cfg-options',
                 '--launcher']),
])
def test_help_documents_options(tool, options):
    result = subprocess.run([sys.executable, TOOLS / tool, '--help'], capture_output=True,
                            text=True, timeout=TIMEOUT, check=True)
    for option in options:
        assert option in result.stdout


def test_shortened_training_with_a_longer_schedule_is_warned():
    from mmengine.config import Config

    from mmvitx.utils.toolbox import warn_unfinished_schedules
    cfg = Config(dict(param_scheduler=[
        dict(type='LinearLR', by_epoch=False, begin=0, end=20),
        dict(type='PolyLR', by_epoch=False, begin=20, end=150),
        dict(type='MultiStepLR', milestones=[8, 11], end=12)]))
    warnings = warn_unfinished_schedules(cfg, {'train_cfg.max_iters': 40})
    assert len(warnings) == 1
    assert 'train_cfg.max_iters=40' in warnings[0] and 'param_scheduler.1.end=40' in warnings[0]
    epoch_warnings = warn_unfinished_schedules(cfg, {'train_cfg.max_epochs': 6})
    assert len(epoch_warnings) == 1 and 'param_scheduler.2.end=6' in epoch_warnings[0]
    assert not warn_unfinished_schedules(cfg, {'train_cfg.max_iters': 150})
    assert not warn_unfinished_schedules(cfg, {'model.backbone.drop_path_rate': 0.1})


def test_checkpoint_interval_counts_in_the_unit_of_the_training_loop():
    from mmengine.config import Config

    from mmvitx.utils.toolbox import align_checkpoint_unit
    # An mmpose config (epoch-counting CheckpointHook) run by iterations.
    pose = Config.fromfile(str(REPO / 'configs/hrformer/hrformer-s_heatmap_coco-256x192.py'))
    assert 'by_epoch' not in pose.default_hooks.checkpoint  # mmengine's default: epochs
    pose.train_cfg = dict(type='IterBasedTrainLoop', max_iters=40, val_interval=20)
    pose.default_hooks.checkpoint.interval = 20
    warning = align_checkpoint_unit(pose)
    assert pose.default_hooks.checkpoint.by_epoch is False
    assert 'IterBasedTrainLoop' in warning and 'interval=20 counts iterations' in warning
    # An mmseg config (iteration-counting hook) run by epochs.
    seg = Config(dict(train_cfg=dict(by_epoch=True, max_epochs=2),
                      default_hooks=dict(checkpoint=dict(by_epoch=False, interval=1))))
    assert 'counts epochs' in align_checkpoint_unit(seg)
    assert seg.default_hooks.checkpoint.by_epoch is True
    # Matching units, and custom loops, are left alone.
    assert align_checkpoint_unit(Config.fromfile(str(CONFIG))) is None
    custom = Config(dict(train_cfg=dict(type='MyLoop'), default_hooks=dict(checkpoint=dict())))
    assert align_checkpoint_unit(custom) is None and 'by_epoch' not in custom.default_hooks.checkpoint


@pytest.mark.parametrize('script, needs', [('dist_train.sh', 'CONFIG NPROC'),
                                           ('dist_test.sh', 'CONFIG CHECKPOINT NPROC')])
def test_dist_scripts_without_arguments_print_usage(script, needs):
    result = subprocess.run(['bash', TOOLS / script], capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 2
    assert f'usage: bash {TOOLS / script} {needs}' in result.stderr
    assert 'unbound variable' not in result.stderr


def packaged_config(name):
    """A toolbox's packaged config, e.g. 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'."""
    from mmengine.hub import get_config
    return get_config(name)


TOOLBOX_CONFIGS = {
    'mmdet': 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    'mmseg': 'mmseg::fcn/fcn_r50-d8_4xb4-80k_ade20k-512x512.py',
    'mmpose':
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py',
}


@pytest.mark.parametrize('toolbox', TOOLBOX_CONFIGS)
def test_show_dir_and_out_follow_each_toolbox(toolbox, tmp_path):
    """--show-dir and --out set what each toolbox's own tools/test.py sets (mmseg is also run end
    to end above)."""
    from mmvitx.utils.toolbox import ToolError, add_prediction_dump, enable_visualization
    cfg = packaged_config(TOOLBOX_CONFIGS[toolbox])
    assert cfg.default_scope == toolbox
    enable_visualization(cfg, 'show')
    hook = cfg.default_hooks.visualization
    show = os.path.abspath('show')  # mmdet and mmpose would put a relative one in the work dir
    if toolbox == 'mmdet':
        assert hook.draw and hook.test_out_dir == show
    elif toolbox == 'mmseg':
        assert hook.draw and hook.interval == 1 and cfg.visualizer.save_dir == show
    else:
        assert hook.enable and hook.interval == 1 and hook.out_dir == show

    if toolbox == 'mmseg':
        add_prediction_dump(cfg, str(tmp_path))
        assert cfg.test_evaluator.output_dir == str(tmp_path) and cfg.test_evaluator.keep_results
        return
    with pytest.raises(ToolError, match='must end with .pkl'):
        add_prediction_dump(cfg, str(tmp_path))
    add_prediction_dump(cfg, 'pred.pkl')
    dump = dict(type='DumpDetResults' if toolbox == 'mmdet' else 'DumpResults',
                out_file_path='pred.pkl')
    assert cfg.test_evaluator[-1] == dump and len(cfg.test_evaluator) == 2


@pytest.mark.parametrize('config, data_root', [
    ('hrformer-s_ocr_cityscapes', 'data/cityscapes/'),
    ('hrformer-s_heatmap_coco-256x192', 'data/coco/'),
])
def test_missing_dataset_names_path_and_preparation(tmp_path, config, data_root):
    result = subprocess.run(
        [sys.executable, str(TOOLS / 'train.py'), str(REPO / 'configs' / 'hrformer' / f'{config}.py')],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert f"dataset root '{data_root}' does not exist" in result.stderr
    assert 'Dataset preparation' in result.stderr and 'generate_demo_data.py' in result.stderr
    assert 'Traceback' not in result.stderr
    assert 'pkg_resources' not in result.stderr  # third-party deprecation noise is filtered


ALLOCATION_FAULTS = '''
import resource, torch
from mmvitx.utils.allocator import keep_freed_memory
applied = keep_freed_memory()
def step():  # 64 MiB maps, as a forward pass at high resolution allocates
    a = torch.ones(2**24)
    return ((a + 1) * a).sum()
for _ in range(10):  # the heap grows to the working set
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
'''


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='glibc malloc settings')
def test_tools_reuse_freed_memory_for_large_tensors():
    """What the tools set at start-up (mmvitx.utils.allocator): once the heap holds the working
    set, steps that allocate 64 MiB tensors reuse freed memory instead of page-faulting in fresh
    pages (3 x 16 384 per step with 4 KiB pages under glibc's defaults, 491 520 in the 10 measured
    steps); MMVITX_KEEP_FREED_MEMORY=0 keeps the defaults. Fragmentation sometimes makes the heap
    grow by one more 64 MiB block after the warm-up (3 of 100 runs grew in the 3 steps measured
    before; 0 of 60 runs by more than one block in 10 steps), so one block's 16 384 fresh pages
    are allowed: 30x fewer than without the setting."""
    counts = {}
    for setting in ('1', '0'):
        result = subprocess.run([sys.executable, '-c', ALLOCATION_FAULTS], capture_output=True,
                                text=True, timeout=TIMEOUT, check=True,
                                env=dict(os.environ, MMVITX_KEEP_FREED_MEMORY=setting))
        applied, faults = result.stdout.split()
        counts[setting] = (applied, int(faults))
    assert counts['1'][0] == 'True' and counts['0'][0] == 'False'
    assert counts['1'][1] <= 16_384 + 1000
    # Unless the kernel backs them with huge pages, fresh maps fault once per 4 KiB page.
    assert counts['0'][1] > 400_000 or counts['0'][1] < 1000
