# Optimizer and schedule of HRFormer's segmentation recipe (HRFormer paper; its segmentation code is
# unreleased, the values are those of the mmsegmentation HRFormer pull request), shared by every
# segmentation recipe here: AdamW lr 1e-4, betas (0.9, 0.999), weight decay 0.01 without decay on
# the normalization layers (BN and LN, matched by layer type through `norm_decay_mult`, so it does
# not depend on parameter names; a config adds its backbone's no-decay parameters as custom_keys);
# 1500-iteration linear warm-up from 1e-6 x lr, then poly decay (power 1.0) to 0. Iteration loop,
# hooks and evaluation interval are mmseg's 80k schedule.
_base_ = ['mmseg::_base_/schedules/schedule_80k.py']

# mmseg's schedule files also define a top-level `optimizer` (SGD) that the Runner never reads;
# it is cleared so that the only optimizer in the dumped config is `optim_wrapper.optimizer`.
optimizer = None
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='SummarizedOptimWrapperConstructor',  # logs its parameter groups in brief
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(norm_decay_mult=0.0))

warmup_iters = 1500
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=warmup_iters),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        by_epoch=False,
        begin=warmup_iters,
        end=80000),
]
