# FasterViT-0 + FPN + Cascade Mask R-CNN, COCO, multi-scale 3x schedule, batch 16 (8 GPUs x 2).
# No published FasterViT-0 detection result: the small-machine sibling of the -2/-3/-4 configs.
# The recipe (the paper's, completed with Swin's mmdet choices) is explained in the base config.
_base_ = ['../_base_/fastervit_cascade-mask-rcnn_fpn_ms-3x_coco.py']

model = dict(
    backbone=dict(
        arch='0',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/fastervit-0_in1k.pth')))
