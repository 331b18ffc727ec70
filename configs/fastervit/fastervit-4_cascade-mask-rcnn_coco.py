# FasterViT-4 + FPN + Cascade Mask R-CNN, COCO, multi-scale 3x schedule, batch 16 (8 GPUs x 2).
# Published (paper, backbones.md §4.5): 52.9 box AP / 45.8 mask AP
# (AP50/AP75: 71.6/57.7 box, 69.1/49.8 mask).
# The recipe (the paper's, completed with Swin's mmdet choices) is explained in the base config.
_base_ = ['../_base_/fastervit_cascade-mask-rcnn_fpn_ms-3x_coco.py']

model = dict(
    backbone=dict(
        arch='4',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/fastervit-4_in1k.pth')),
    neck=dict(in_channels=[196, 392, 784, 1568]))
