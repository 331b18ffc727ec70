# FasterViT-2 + FPN + Cascade Mask R-CNN, COCO, multi-scale 3x schedule, batch 16 (8 GPUs x 2).
# Published (paper, backbones.md §4.5): 52.1 box AP / 45.4 mask AP
# (AP50/AP75: 71.0/56.6 box, 68.4/49.0 mask).
# The recipe (the paper's, completed with Swin's mmdet choices) is explained in the base config.
_base_ = ['../_base_/fastervit_cascade-mask-rcnn_fpn_ms-3x_coco.py']

model = dict(
    backbone=dict(
        arch='2',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/fastervit-2_in1k.pth')),
    neck=dict(in_channels=[96, 192, 384, 768]))
