"""HRFormer-T top-down heatmap pose estimation on the COCO-keypoints demo data (stick figures), sized
to learn in well under a minute on a 2-core CPU (``tests/test_learning.py``).

mmpose's packaged HRFormer config (top-down COCO pipeline, MSRA heatmaps, KeypointMSELoss, flip
test) with mmvitx's HRFormer-T as backbone: its stride-4 branch (18 channels) feeds a HeatmapHead
without deconvolutions, i.e. a single 1x1 conv to the 17 heatmaps, so the spatial reasoning has to
be learnt by the backbone.
Shrunk for a CPU: 64x48 input (16x12 heatmaps, sigma 1), milder augmentation (flip and box
jitter with rotations up to 30 degrees, no half-body), 60 iterations of batch 8, AdamW lr 1e-2 with
a short warm-up and linear decay, no pretrained weights, plain BN.
Metric: PCK@0.1 (a joint is correct within 0.1 x the longer side of its person box) on the
ground-truth boxes of the val persons. COCO keypoint AP is of no use at this budget: it stayed at
0.000-0.008 after training (64x48 or 128x96 input) while PCK@0.1 went from 0.01 to 0.6-0.7, as OKS
needs joints within a few pixels (the demo persons' `area`, the thin stick figure's pixel count,
is only 10-20 % of their box, which makes OKS about twice as strict as on COCO persons).
The demo data root comes from ``$MMVITX_DEMO_DATA`` (default ``data/demo``, where
``tools/misc/generate_demo_data.py`` writes it).
"""
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrformer-small_8xb32-210e_coco-256x192.py'
]
custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

data_root = '{{$MMVITX_DEMO_DATA:data/demo}}/coco/'
codec = dict(type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=1)
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.HRFormer',  # scope-qualified: mmpose has an `HRFormer` of its own
        arch='t',
        out_indices=(0, ),
        drop_path_rate=0.0,
        norm_cfg=dict(type='BN', requires_grad=True),
        init_cfg=None),
    head=dict(in_channels=18, out_channels=17, deconv_out_channels=None, decoder=codec))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', rotate_factor=30),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    # ground-truth person boxes: PCK needs the annotated joints of each evaluated instance
    dataset=dict(data_root=data_root, bbox_file=None, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='PCKAccuracy', thr=0.1, norm_item='bbox')
test_evaluator = val_evaluator

max_iters = 60
optim_wrapper = dict(optimizer=dict(lr=1e-2, fused=True))  # fused: much faster on CPU
param_scheduler = [
    dict(type='LinearLR', begin=0, end=5, start_factor=0.1, by_epoch=False),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=5, end=max_iters),
]
auto_scale_lr = None
fp16 = None
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=-1, save_best=None, save_last=False))
custom_hooks = []  # SyncBuffersHook: single process
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
