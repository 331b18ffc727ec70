"""Checkpoint loading under torch >= 2.6 (``mmvitx/utils/checkpoint.py``).

mmengine's checkpoints must load with ``weights_only=True``, plain state dicts must load through
``load_from``, and files holding arbitrary pickled objects must be refused, without ever running
their code, whether they come from a path or a URL.
"""
import functools
import http.server
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import CheckpointLoader, Runner

import mmvitx.utils  # noqa: F401  (allow-list and loaders)
from mmvitx.utils import UnsafeCheckpointError

CONFIG = Path(__file__).resolve().parent / 'data' / 'tiny_fcn_ade20k.py'


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
    checkpoint = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert checkpoint['message_hub']['log_scalars']['train/loss'].mean() == 0.5
    assert checkpoint['message_hub']['runtime_info']['eta'] == 12.5
    assert pickle.dumps(checkpoint['meta']['dataset_meta']) == pickle.dumps(
        runner.train_dataloader.dataset.metainfo)
