"""FasterViT-0 + a linear FCN head on the Cityscapes demo data, sized to learn in well under a
minute on a 2-core CPU (``tests/test_learning.py``).

mmseg's packaged HRNetV2 + FCN and Cityscapes configs with mmvitx's FasterViT-0 as backbone (all
four stages, strides 4-32, 64/128/256/512 channels). The head is as light as it gets: the four
outputs upsampled to stride 4 and concatenated (960 channels), then the 1x1 classifier (no hidden
conv), so what is learnt beyond a per-pixel linear map must come from the backbone.
Images at a quarter of the demo size (128x64, mild scale jitter, flip), 60 iterations of batch 4,
AdamW lr 1e-3 with a short warm-up and linear decay (lr 2e-3 learnt as well: mIoU 70.4 / 72.3 for
seeds 0 / 1 against 70.8 / 70.7), no pretrained weights, plain BN in the stem and the
convolutional stages, mIoU on the 8 val images. A step costs about 0.6 s on one thread, most of it
in the two transformer stages, whose maps are padded to whole 7x7 windows at this size.
The demo data root comes from ``$MMVITX_DEMO_DATA`` (default ``data/demo``, where
``tools/misc/generate_demo_data.py`` writes it).
"""
_base_ = [
    'mmseg::_base_/models/fcn_hr18.py', 'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

data_root = '{{$MMVITX_DEMO_DATA:data/demo}}/cityscapes/'
scale = (128, 64)  # (w, h): a quarter of the demo images' 512x256
crop_size = (64, 128)  # (h, w): the whole resized image (when not jittered larger)
stage_channels = [64, 128, 256, 512]  # FasterViT-0
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _delete_=True,
        type='mmvitx.FasterViT',
        arch='0',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.0,
        norm_cfg=norm_cfg,
        init_cfg=None),
    decode_head=dict(
        in_channels=stage_channels,
        channels=sum(stage_channels),
        num_convs=0,  # linear head: resize + concat, then the 1x1 classifier
        norm_cfg=norm_cfg))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=scale, ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 60
optim_wrapper = dict(
    type='OptimWrapper',
    # fused: one kernel for all ~370 parameter tensors, much faster than the per-tensor loop on CPU
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.01, fused=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=5, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=-1, save_last=False),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
env_cfg = dict(cudnn_benchmark=False)
