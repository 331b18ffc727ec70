# `adamw-poly_80k.py` over mmseg's 160k-iteration loop (evaluation and checkpoints every 16k
# iterations, as in mmseg's schedule_160k).
_base_ = ['./adamw-poly_80k.py']

max_iters = 160000
train_cfg = dict(max_iters=max_iters, val_interval=16000)
default_hooks = dict(checkpoint=dict(interval=16000))
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_iters),
]
