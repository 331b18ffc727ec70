"""Checkpoint loading under torch >= 2.6 (``mmvitx/utils/checkpoint.py``).

mmengine's checkpoints must load with ``weights_only=True``, plain state dicts must load through
``load_from``, and files holding arbitrary pickled objects must be refused, without ever running
their code, whether they come from a path or a URL.
"""
import functools
import http.server
import io
import os
import pickle
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader, Runner

import mmvitx.utils  # noqa: F401  (allow-list and loaders)
from mmvitx.utils import UnsafeCheckpointError
from mmvitx.utils.checkpoint import InvalidCheckpointError, checkpoint_file_problem
from mmvitx.utils.toolbox import ToolError, set_resume

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / 'tests' / 'data' / 'tiny_fcn_ade20k.py'


class Payload:
    """Stands for any object a malicious checkpoint could carry: unpickling it runs code (here it
    creates a marker file)."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker), ))


@pytest.fixture
def foreign_checkpoint(tmp_path):
    path = tmp_path / 'foreign.pth'
    marker = tmp_path / 'code-was-run'
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': {'extra': Payload(str(marker))}}, path)
    return path, marker


def test_foreign_checkpoint_is_refused(foreign_checkpoint):
    path, marker = foreign_checkpoint
    with pytest.raises(UnsafeCheckpointError) as error:
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    message = str(error.value)
    assert str(path) in message
    assert 'arbitrary pickled Python objects' in message
    assert 'pathlib.Path' in message  # names the offending object
    assert 'for safety' in message and 're-save' in message
    assert not marker.exists()
    # The protection is still on for torch.load everywhere else.
    with pytest.raises(Exception):
        torch.load(path)
    assert not marker.exists()


def test_foreign_checkpoint_from_url_is_refused(foreign_checkpoint, tmp_path, monkeypatch):
    """mmengine downloads with weights_only=False; mmvitx's URL loader must not."""
    path, marker = foreign_checkpoint
    torch.save({'w': torch.arange(3)}, path.parent / 'plain.pth')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(path.parent))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{server.server_address[1]}'
    try:
        plain = CheckpointLoader.load_checkpoint(f'{url}/plain.pth', map_location='cpu')
        assert torch.equal(plain['w'], torch.arange(3))
        with pytest.raises(UnsafeCheckpointError, match='foreign.pth'):
            CheckpointLoader.load_checkpoint(f'{url}/foreign.pth', map_location='cpu')
    finally:
        server.shutdown()
    assert not marker.exists()


def build_runner(cfg: Config, work_dir: Path) -> Runner:
    cfg.work_dir = str(work_dir)
    return Runner.from_cfg(cfg)


@pytest.fixture
def tiny_cfg(demo_data, monkeypatch):
    monkeypatch.setenv('MMVITX_DEMO_ADE', str(demo_data / 'ade' / 'ADEChallengeData2016'))
    return Config.fromfile(CONFIG)


@pytest.mark.slow
def test_plain_state_dict_loads_via_load_from(tiny_cfg, tmp_path):
    model = build_runner(tiny_cfg.copy(), tmp_path / 'first').model
    state_dict = {key: torch.rand_like(value, dtype=torch.float).to(value.dtype)
                  for key, value in model.state_dict().items()}
    path = tmp_path / 'plain.pth'
    torch.save(state_dict, path)

    tiny_cfg.load_from = str(path)
    runner = build_runner(tiny_cfg, tmp_path / 'second')
    runner.load_or_resume()
    for key, value in runner.model.state_dict().items():
        assert torch.equal(value, state_dict[key]), key


# A packaged config of each toolbox and where its training set lies in the demo data.
TOOLBOX_CONFIGS = {
    'mmdet': ('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', 'coco'),
    'mmseg': ('mmseg::fcn/fcn_r50-d8_4xb4-80k_ade20k-512x512.py', 'ade/ADEChallengeData2016'),
    'mmpose':
    ('mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py',
     'coco'),
}


@pytest.mark.slow
@pytest.mark.parametrize('toolbox', TOOLBOX_CONFIGS)
def test_toolbox_runner_checkpoint_loads_with_weights_only(toolbox, demo_data, tmp_path):
    """A checkpoint as a Runner of each toolbox writes it (dataset_meta, HistoryBuffer logs,
    numpy eta, optimizer, schedulers) contains nothing outside the allow-list and loads back."""
    from mmengine.hub import get_config
    name, data_root = TOOLBOX_CONFIGS[toolbox]
    cfg = get_config(name)
    cfg.train_dataloader.dataset.data_root = str(demo_data / data_root)
    runner = build_runner(cfg, tmp_path / 'work')
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.param_schedulers = runner.build_param_scheduler(runner.param_schedulers)
    # What training puts into the message hub: logged scalars and the eta (a numpy float).
    runner.message_hub.update_scalar('train/loss', 0.5)
    runner.message_hub.update_info('eta', np.float64(12.5))
    runner.save_checkpoint(str(tmp_path), 'runner.pth')
    path = tmp_path / 'runner.pth'

    assert torch.serialization.get_unsafe_globals_in_checkpoint(str(path)) == []
    assert checkpoint_file_problem(str(path)) is None  # what --resume checks
    checkpoint = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert checkpoint['message_hub']['log_scalars']['train/loss'].mean() == 0.5
    assert checkpoint['message_hub']['runtime_info']['eta'] == 12.5
    assert pickle.dumps(checkpoint['meta']['dataset_meta']) == pickle.dumps(
        runner.train_dataloader.dataset.metainfo)


# ----------------------------------------------------------------------------- bad files
class SystemCall:
    """Unpickles by calling ``os.system`` (pickled as ``posix.system``) to create ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def _saved_bytes(obj, **kwargs) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def _zip_without_checkpoint() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        archive.writestr('weights/readme.txt', 'not a checkpoint')
    return buffer.getvalue()


WEIGHTS = {'state_dict': {'w': torch.arange(1000.)}}
# name -> (file contents, the error's class, what its message must say)
BAD_FILES = {
    'text': (b'<!DOCTYPE html><title>404 Not Found</title>\n', InvalidCheckpointError,
             ["is not a checkpoint: it is a text file starting '<!DOCTYPE html>"]),
    'empty': (b'', InvalidCheckpointError, ['is empty (0 bytes)']),
    'truncated zip': (_saved_bytes(WEIGHTS)[:2000], InvalidCheckpointError,
                      ['is truncated or corrupt', 'central directory']),
    'truncated legacy pickle': (
        _saved_bytes(WEIGHTS, _use_new_zipfile_serialization=False)[:300],
        InvalidCheckpointError, ['is truncated or corrupt', 'pickle data']),
    'zip of other files': (_zip_without_checkpoint(), InvalidCheckpointError,
                           ['is a zip archive but not a torch.save checkpoint', 'readme.txt']),
    'safetensors': ((14).to_bytes(8, 'little') + b'{"__metadata__":{}}', InvalidCheckpointError,
                    ['looks like a safetensors file', 'safetensors.torch']),
    'binary of another format': (b'\x89HDF\r\n\x1a\n' + bytes(range(64)), InvalidCheckpointError,
                                 ['is not a checkpoint', "starts with the bytes b'\\x89HDF"]),
}


@pytest.mark.parametrize('kind', BAD_FILES)
def test_bad_file_is_named_and_explained(kind, tmp_path):
    """Through mmengine's CheckpointLoader, as Pretrained, load_from, --resume and tools/test.py
    load files."""
    contents, error_class, phrases = BAD_FILES[kind]
    path = tmp_path / 'model.pth'
    path.write_bytes(contents)
    with pytest.raises(error_class) as error:
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert str(error.value).startswith(str(path))
    for phrase in phrases:
        assert phrase in str(error.value)
    assert checkpoint_file_problem(str(path)).args == error.value.args


@pytest.mark.parametrize('protocol, saved_by_torch', [(4, False), (2, False), (2, True)])
def test_pickle_calling_posix_system_is_refused_by_name(protocol, saved_by_torch, tmp_path):
    """The refused global is found by reading the opcodes (also STACK_GLOBAL, protocol 4), never
    by running them: the marker file the call would create stays absent."""
    marker = tmp_path / 'code-was-run'
    path = tmp_path / 'evil.pth'
    weights = {'state_dict': SystemCall(marker)}
    # torch.save writes a zip archive with a protocol-2 pickle; a bare pickle may be of any.
    contents = _saved_bytes(weights) if saved_by_torch else pickle.dumps(weights, protocol)
    path.write_bytes(contents)
    with pytest.raises(UnsafeCheckpointError) as error:
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert f'Refused to load the checkpoint {path}' in str(error.value)
    assert '(posix.system)' in str(error.value)
    assert 'Unsupported operand' not in str(error.value)
    assert not marker.exists()


@pytest.mark.parametrize('legacy_format', [False, True])
def test_checkpoints_that_load_have_no_problem(legacy_format, tmp_path):
    """What an mmengine Runner saves (numpy values, HistoryBuffer logs and its statistics methods)
    passes the static check, in the zip and in the legacy format."""
    history = HistoryBuffer()
    history.update(0.5)
    checkpoint = {'state_dict': {'w': torch.ones(3)}, 'meta': {'eta': np.float64(1.5)},
                  'message_hub': {'log_scalars': {'loss': history}, 'mean': HistoryBuffer.mean},
                  'palette': np.zeros((2, 3), dtype=np.uint8)}
    path = tmp_path / 'iter_2.pth'
    torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy_format)
    assert checkpoint_file_problem(str(path)) is None
    loaded = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert loaded['message_hub']['log_scalars']['loss'].mean() == 0.5


# ----------------------------------------------------------------------------- --resume
def _work_dir(tmp_path, iterations=(2, 4), broken=(), latest=None):
    """A work directory as CheckpointHook leaves it: iter_N.pth files and last_checkpoint naming
    ``latest`` (default: the last one); the ``broken`` ones truncated."""
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    for i in iterations:
        contents = _saved_bytes({'meta': {'iter': i}, 'state_dict': {'w': torch.full((100, ), i)}})
        (work_dir / f'iter_{i}.pth').write_bytes(contents[:len(contents) // 2] if i in broken
                                                 else contents)
    if iterations:
        (work_dir / 'last_checkpoint').write_text(
            str(work_dir / f'iter_{latest or iterations[-1]}.pth'))
    return work_dir



def _resume(work_dir, resume, **cfg):
    cfg = Config(dict(work_dir=str(work_dir), **cfg))
    set_resume(cfg, resume)
    return cfg


def test_auto_resume_passes_over_a_truncated_latest_checkpoint(tmp_path, warnings_logged):
    work_dir = _work_dir(tmp_path, iterations=(2, 4, 6), broken=(4, 6))
    cfg = _resume(work_dir, 'auto')
    assert cfg.resume is True and cfg.load_from == str(work_dir / 'iter_2.pth')
    warning, = warnings_logged
    assert f'resume from {work_dir / "iter_2.pth"} instead' in warning
    assert f'{work_dir / "iter_6.pth"} is truncated or corrupt' in warning
    assert f'{work_dir / "iter_4.pth"} is truncated or corrupt' in warning
    # The Runner would resume from it: mmengine's auto-resume is not used.
    assert CheckpointLoader.load_checkpoint(cfg.load_from)['meta']['iter'] == 2


def test_auto_resume_takes_the_latest_checkpoint_that_loads(tmp_path, warnings_logged):
    work_dir = _work_dir(tmp_path, iterations=(2, 4, 6), latest=4)  # last_checkpoint first
    assert _resume(work_dir, 'auto').load_from == str(work_dir / 'iter_4.pth')
    assert not warnings_logged
    # Without last_checkpoint, the highest iteration.
    (work_dir / 'last_checkpoint').unlink()
    assert _resume(work_dir, 'auto').load_from == str(work_dir / 'iter_6.pth')


def test_auto_resume_with_nothing_to_resume_says_so(tmp_path, warnings_logged):
    work_dir = _work_dir(tmp_path, iterations=())
    cfg = _resume(work_dir, 'auto')
    from_pretrained = _resume(work_dir, 'auto', load_from='detector.pth')
    assert cfg.resume is False and cfg.get('load_from') is None
    assert from_pretrained.resume is False and from_pretrained.load_from == 'detector.pth'
    scratch, pretrained = warnings_logged
    assert f'nothing to resume, the work directory {work_dir} holds no checkpoint' in scratch
    assert scratch.endswith('training starts from scratch.')
    assert pretrained.endswith('training starts from load_from=detector.pth.')


def test_auto_resume_fails_when_no_checkpoint_loads(tmp_path):
    work_dir = _work_dir(tmp_path, broken=(2, 4))
    with pytest.raises(ToolError) as error:
        _resume(work_dir, 'auto')
    assert f'no checkpoint in {work_dir} loads' in str(error.value)
    assert str(work_dir / 'iter_2.pth') in str(error.value)
    assert str(work_dir / 'iter_4.pth') in str(error.value)


def test_explicit_resume_of_a_broken_checkpoint_fails_naming_it(tmp_path):
    work_dir = _work_dir(tmp_path, broken=(4, ))
    with pytest.raises(ToolError, match=f'--resume: {work_dir / "iter_4.pth"} is truncated'):
        _resume(work_dir, str(work_dir / 'iter_4.pth'))
    with pytest.raises(ToolError, match=f'--resume: No checkpoint at {tmp_path / "no.pth"}'):
        _resume(work_dir, str(tmp_path / 'no.pth'))
    cfg = _resume(work_dir, str(work_dir / 'iter_2.pth'))
    assert cfg.resume is True and cfg.load_from == str(work_dir / 'iter_2.pth')


@pytest.mark.slow
def test_train_resume_over_a_truncated_last_checkpoint(demo_data, tmp_path):
    """tools/train.py --resume after a run whose last checkpoint was cut short: it resumes from
    the previous one, says so, and trains to the end."""
    env = dict(os.environ, MMVITX_DEMO_ADE=str(demo_data / 'ade' / 'ADEChallengeData2016'),
               OMP_NUM_THREADS='1')
    work_dir = tmp_path / 'work'

    def train(*args):
        return subprocess.run([sys.executable, str(REPO / 'tools' / 'train.py'), str(CONFIG),
                               '--work-dir', str(work_dir), *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300)

    assert train().returncode == 0  # checkpoints at iterations 2 and 4
    last = work_dir / 'iter_4.pth'
    last.write_bytes(last.read_bytes()[:1000])
    result = train('--resume')
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert f'{last} is truncated or corrupt' in output
    assert f'resume from {work_dir / "iter_2.pth"} instead' in output
    assert 'resumed epoch: 0, iter: 2' in output
    assert checkpoint_file_problem(str(last)) is None  # written again
