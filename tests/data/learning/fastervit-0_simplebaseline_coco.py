"""FasterViT-0 SimpleBaseline pose estimation on the COCO-keypoints demo data, sized to learn in
about a minute on a 2-core CPU (``tests/test_learning.py``).

The HRFormer-T learning config (mmpose's packaged top-down COCO settings, the same data, milder
augmentation, PCK@0.1 on the ground-truth boxes, schedule) with the head of the shipped FasterViT
pose configs: mmpose's HeatmapHead with three stride-2 deconvolutions on the stride-32 output of
FasterViT-0 (512 channels), here 128 channels wide instead of 256.
128x96 input (stride-32 map 4x3, heatmaps 32x24, sigma 2; 64x48 would leave a 2x2 map), batch 8,
120 iterations (twice the HRFormer test's: the joints must be located to within a fraction of a
stride-32 cell), AdamW lr 1e-3 (the rate of the FasterViT segmentation learning test; 2e-3 and 3e-3
were no better or unstable), no pretrained weights, plain BN in the stem and the convolutional
stages, BN output norm (as in the detection learning test).
The demo data root comes from ``$MMVITX_DEMO_DATA`` (default ``data/demo``, where
``tools/misc/generate_demo_data.py`` writes it).
"""
_base_ = ['./hrformer-t_heatmap_coco.py']

codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2)
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.FasterViT',
        arch='0',
        out_indices=(3, ),
        drop_path_rate=0.0,
        norm_cfg=dict(type='BN', requires_grad=True),
        out_norm_cfg=dict(type='BN'),
        init_cfg=None),
    head=dict(
        in_channels=512,
        deconv_out_channels=(128, 128, 128),
        deconv_kernel_sizes=(4, 4, 4),
        decoder=codec))

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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=1e-3))
max_iters = 120
param_scheduler = [
    dict(type='LinearLR', begin=0, end=5, start_factor=0.1, by_epoch=False),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=5, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
