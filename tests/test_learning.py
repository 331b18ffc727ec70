"""Training learns: HRFormer-T, trained from scratch for a minute through mmengine's Runner on the
demo data, beats its untrained self by a wide margin in each toolbox's own validation metric.

One test per toolbox, each with a small real config in ``tests/data/learning/`` built on the
toolbox's packaged configs (the docstrings there give the recipes):

=========  ===========================  ==========  =====  =======  ==============  ==========
toolbox    model                        input       iters  batch    optimizer       metric
=========  ===========================  ==========  =====  =======  ==============  ==========
mmseg      HRFormer-T + linear FCN head  128x64      40     4        AdamW 2e-2      mIoU
mmdet      HRFormer-T + FPN + Faster    160x120     80     2        AdamW 1e-3      bbox mAP
           R-CNN (thin heads)
mmpose     HRFormer-T (stride 4) + 1x1   64x48       60     8        AdamW 1e-2      PCK@0.1
           HeatmapHead
=========  ===========================  ==========  =====  =======  ==============  ==========

Every run validates once *before* the first iteration (the initialised, untrained model: the
measured chance level) and once after the last; the test requires the trained metric to clear a
fixed threshold and to beat the untrained one by a margin. The thresholds were set from runs on
the default demo data (seed 0, 24 train / 8 val images) with seeds 0-2 (more for detection), and
checked against a broken-learning control, the same run with the backbone frozen
(``frozen_stages=4``: its random features stay as initialised while the heads train), which must
fail them; the numbers are next to each threshold. Fixed seed, ``num_workers=0``, BN, no
pretrained weights, work dirs under pytest's tmp_path, no checkpoints, warnings-only logging.
"""
import pytest
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from pathlib import Path

CONFIGS = Path(__file__).parent / 'data' / 'learning'


class ValidationRecorder(Hook):
    """Validates the model before training starts and records every validation's metrics and the
    first and last training losses."""

    priority = 'LOWEST'

    def __init__(self):
        self.metrics = []
        self.losses = []

    def before_train(self, runner):
        # After weight initialisation and before the first iteration: the untrained baseline.
        runner.val_loop.run()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if outputs and 'loss' in outputs:
            self.losses.append(float(outputs['loss'].detach()))

    def after_val_epoch(self, runner, metrics=None):
        self.metrics.append(dict(metrics or {}))


def train(config: str, demo_data: Path, work_dir: Path, monkeypatch, cfg_options=None):
    """Train ``config`` on the demo data (``cfg_options`` as ``--cfg-options`` would merge them);
    return (untrained metrics, trained metrics, a summary for assertion messages)."""
    # The configs read the demo data root from this variable when they are parsed.
    monkeypatch.setenv('MMVITX_DEMO_DATA', str(demo_data))
    cfg = Config.fromfile(CONFIGS / config)
    cfg.merge_from_dict(cfg_options or {})
    cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    # A fresh visualizer: instances are shared by name within a process.
    cfg.visualizer.name = f'visualizer_{work_dir.name}'
    runner = Runner.from_cfg(cfg)
    recorder = ValidationRecorder()
    runner.register_hook(recorder)
    runner.train()
    assert len(recorder.metrics) == 2, recorder.metrics
    untrained, trained = ({key: round(float(value), 4) for key, value in metrics.items()}
                          for metrics in recorder.metrics)
    summary = (f'untrained {untrained}, trained {trained}, loss '
               f'{recorder.losses[0]:.4f} -> {recorder.losses[-1]:.4f}')
    print(summary)  # shown with -rP or -s
    return untrained, trained, summary


def test_mmseg_hrformer_fcn_learns(demo_data, tmp_path, monkeypatch):
    untrained, trained, summary = train('hrformer-t_fcn_cityscapes.py', demo_data, tmp_path,
                                        monkeypatch)
    # mIoU in percent over the classes present in the val labels or predictions (6 of 19 in the
    # data). Measured: untrained ~0.02 (one class predicted everywhere); trained 66.6 / 57.3 /
    # 62.7 (seeds 0/1/2); backbone frozen 35.4 / 33.5 (seeds 0/1). A threshold of 45 leaves
    # 12 points of headroom below the worst trained run and 10 above the frozen ones.
    assert trained['mIoU'] >= 45, summary
    assert trained['mIoU'] - untrained['mIoU'] >= 40, summary


def test_mmdet_hrformer_faster_rcnn_learns(demo_data, tmp_path, monkeypatch):
    untrained, trained, summary = train('hrformer-t_faster-rcnn_coco.py', demo_data, tmp_path,
                                        monkeypatch)
    # COCO bbox mAP@[.5:.95] on the 17 objects (3 classes) of the 8 val images. Measured:
    # untrained 0.000-0.006; trained 0.426 / 0.337 / 0.370 / 0.388 / 0.481 (seeds 0-4; mAP@.5
    # 0.81-0.97); backbone frozen 0.192 / 0.082 (seeds 0/1). A threshold of 0.25 leaves 0.09 of
    # headroom below the worst trained run and 0.06 above the best frozen one.
    assert trained['coco/bbox_mAP'] >= 0.25, summary
    assert trained['coco/bbox_mAP'] - untrained['coco/bbox_mAP'] >= 0.2, summary


def test_mmpose_hrformer_heatmap_learns(demo_data, tmp_path, monkeypatch):
    untrained, trained, summary = train('hrformer-t_heatmap_coco.py', demo_data, tmp_path,
                                        monkeypatch)
    # PCK@0.1 (bbox-normalised) over the ~180 visible joints of the 11 val persons. Measured:
    # untrained 0.005 / 0.006 / 0.012; trained 0.663 / 0.680 / 0.622 (seeds 0/1/2); backbone
    # frozen 0.180 (seed 0). A threshold of 0.45 leaves 0.17 of headroom below the worst trained
    # run and 0.27 above the frozen one.
    assert trained['PCK'] >= 0.45, summary
    assert trained['PCK'] - untrained['PCK'] >= 0.4, summary
