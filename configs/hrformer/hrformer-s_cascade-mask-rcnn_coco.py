# HRFormer-S + FPN + Cascade Mask R-CNN, COCO, multi-scale 3x schedule, batch 16 (8 GPUs x 2).
# No published HRFormer detection result; the recipe is explained in the base config.
_base_ = ['../_base_/hrformer_cascade-mask-rcnn_fpn_ms-3x_coco.py']

model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/hrformer-s_in1k.pth')))
