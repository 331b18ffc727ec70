"""HRFormer-T + FPN + Faster R-CNN on the COCO-instances demo data (orange discs, green triangles,
blue rectangles as the real COCO classes 'sports ball', 'kite', 'tv'), sized to learn in about a
minute on a 2-core CPU (``tests/test_learning.py``).

mmdet's packaged Faster R-CNN (FPN) and COCO detection configs with mmvitx's HRFormer-T (all four
branches, strides 4-32) as backbone and a thinner neck and heads: 64-channel FPN and RPN, a
256-wide two-fc box head, 128 sampled RoIs per image and fewer proposals.
Images at half the demo size (160x120, flip), 120 iterations of batch 4, AdamW lr 2e-3 with a
20-iteration warm-up and linear decay, no pretrained weights, plain BN; COCO bbox mAP on the 8 val
images. (At 60 iterations with a 5-iteration warm-up the trained runs spread from 0.26 to 0.48 and
the worst of them fell to the frozen-backbone control's level, 0.27.)
(Faster R-CNN learnt fastest per CPU second here: FCOS and CenterNet-update heads of the same
width reached only 0.04-0.10 mAP in a comparable budget. Learning is iteration-bound: 160x120
beat 128x96, batch 4 beat batch 2 at the same wall time, and lr 5e-3 was worse than 2e-3.)
The demo data root comes from ``$MMVITX_DEMO_DATA`` (default ``data/demo``, where
``tools/misc/generate_demo_data.py`` writes it).
"""
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py', 'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

data_root = '{{$MMVITX_DEMO_DATA:data/demo}}/coco/'
# The demo's categories; the model then has 3 classes (labels in the annotation files' order).
classes = ('sports ball', 'kite', 'tv')
scale = (160, 120)  # (w, h): half of the demo images' ~320x240
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.HRFormer',  # scope-qualified: mmpose registers an `HRFormer` of its own
        arch='t',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.0,
        norm_cfg=dict(type='BN', requires_grad=True),
        init_cfg=None),
    neck=dict(in_channels=[18, 36, 72, 144], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=len(classes))),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=100)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, metainfo=dict(classes=classes), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=dict(classes=classes), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator

max_iters = 120
optim_wrapper = dict(
    type='OptimWrapper',
    # fused: one kernel for all ~1100 parameter tensors, 4-5x faster than the per-tensor loop on CPU
    optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=0.01, fused=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=20, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=-1, save_last=False))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
