# HRFormer-B + FPN + Cascade Mask R-CNN, COCO, multi-scale 3x schedule, batch 16 (8 GPUs x 2).
# No published HRFormer detection result; the recipe is explained in the base config.
_base_ = ['../_base_/hrformer_cascade-mask-rcnn_fpn_ms-3x_coco.py']

model = dict(
    backbone=dict(
        arch='b',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/hrformer-b_in1k.pth')),
    neck=dict(in_channels=[78, 156, 312, 624]))
