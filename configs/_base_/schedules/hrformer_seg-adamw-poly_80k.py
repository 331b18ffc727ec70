# Optimizer and schedule of HRFormer's segmentation recipe (backbones.md §5.6; the official
# segmentation code is unreleased, these are the settings of the mmsegmentation HRFormer PR):
# AdamW lr 1e-4, betas (0.9, 0.999), weight decay 0.01 with no decay on the relative position bias
# tables and on all normalization layers (BN and LN, matched by layer type through
# `norm_decay_mult`, so it does not depend on parameter names); 1500-iteration linear warm-up from
# 1e-6 x lr, then poly decay (power 1.0) to 0. Iteration loop, hooks and evaluation interval are
# mmseg's 80k schedule.
_base_ = ['mmseg::_base_/schedules/schedule_80k.py']

# mmseg's schedule files also define a top-level `optimizer` (SGD) that the Runner never reads;
# it is cleared so that the only optimizer in the dumped config is `optim_wrapper.optimizer`.
optimizer = None
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys={
            'relative_position_bias_table': dict(decay_mult=0.0),
        }))

warmup_iters = 1500
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        by_epoch=False,
        begin=warmup_iters,
        end=80000),
]
