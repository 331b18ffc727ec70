# Demo: a small sibling of `hrformer-s_ocr_cityscapes.py` that trains, evaluates (mIoU) and writes
# visualizations in a few minutes on a 2-core CPU, on the synthetic Cityscapes look-alike made by
#     python tools/misc/generate_demo_data.py          # -> data/demo/cityscapes/ (512x256 images)
# Train (a log line every 10 iterations), validate at the end (mIoU) and draw the predictions of the
# 8 val images next to their ground truth into
# work_dirs/hrformer-t_ocr_cityscapes-demo/<timestamp>/vis_data/vis_image/:
#     python tools/train.py configs/hrformer/hrformer-t_ocr_cityscapes-demo.py
# Then, optionally, test the checkpoint with the overlays written to a folder of your choice:
#     python tools/test.py configs/hrformer/hrformer-t_ocr_cityscapes-demo.py \
#         work_dirs/hrformer-t_ocr_cityscapes-demo/iter_150.pth --show-dir vis
#
# What is shrunk with respect to the real recipe (everything else is inherited): HRFormer-T without
# pretrained weights or drop path; plain BN instead of SyncBN (one process); a thinner OCR head
# (channels 128, ocr_channels 64); half-resolution inputs (images resized to 256x128, random
# rescaling 0.5-2x, 128x256 crops; inference on the whole 256x128 image, the prediction is resized
# to 512x256 for evaluation); 150 iterations of batch 2 with lr 2e-3 (20x: training starts from
# scratch) after a 20-iteration warm-up from 1e-3 x lr; one validation at the end. OHEM is kept,
# but its min_kept (100000) exceeds the pixels of a demo batch, so it keeps every pixel here.
_base_ = ['../_base_/recipes/ocr_cityscapes-512x1024.py', '../_base_/backbones/hrformer-t.py']

data_root = 'data/demo/cityscapes/'
crop_size = (128, 256)
scale = (256, 128)  # (w, h): half the demo images' 512x256, as (2048, 1024) is Cityscapes' size
norm_cfg = dict(type='BN', requires_grad=True)

data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(_base_.backbone, drop_path_rate=0.0, norm_cfg=norm_cfg, init_cfg=None),
    decode_head=[
        dict(
            _base_.model.decode_head[0],
            in_channels=_base_.backbone_channels,
            channels=sum(_base_.backbone_channels),
            norm_cfg=norm_cfg),
        dict(
            _base_.model.decode_head[1],
            in_channels=_base_.backbone_channels,
            channels=128,
            ocr_channels=64,
            norm_cfg=norm_cfg),
    ])

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 150
warmup_iters = 20
optim_wrapper = dict(
    optimizer=dict(lr=2e-3), paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-3, end=warmup_iters),
    dict(_base_.param_scheduler[1], begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_iters),
    # draw every val/test image (prediction overlaid next to the ground truth) into
    # <work_dir>/<timestamp>/vis_data/vis_image/
    visualization=dict(draw=True, interval=1))
randomness = dict(seed=0)
