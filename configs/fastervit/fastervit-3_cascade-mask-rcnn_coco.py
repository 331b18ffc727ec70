# FasterViT-3 + FPN + Cascade Mask R-CNN, COCO, multi-scale 3x schedule, batch 16 (8 GPUs x 2).
# Published (paper, backbones.md §4.5): 52.4 box AP / 45.4 mask AP
# (AP50/AP75: 71.1/56.7 box, 68.7/49.3 mask).
# The recipe (the paper's, completed with Swin's mmdet choices) is explained in the base config.
_base_ = ['../_base_/fastervit_cascade-mask-rcnn_fpn_ms-3x_coco.py']

model = dict(
    backbone=dict(
        arch='3',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/fastervit-3_in1k.pth')),
    neck=dict(in_channels=[128, 256, 512, 1024]))
