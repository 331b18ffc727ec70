# PSViT-2D-S + FPN + Cascade Mask R-CNN, COCO, multi-scale 3x schedule, batch 16 (8 GPUs x 2),
# hybrid window attention (14x14 tokens). mmvitx's own PSViT instantiation (the paper's searched
# models are unpublished), so no published result; the recipe (FasterViT's, so that the backbones
# compare directly) is explained in the base config.
_base_ = ['../_base_/psvit_cascade-mask-rcnn_fpn_ms-3x_coco.py']

model = dict(
    backbone=dict(
        arch='s',
        window_size=14,
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/psvit-2d-s_in1k.pth')),
    neck=dict(in_channels=[128, 128, 256, 512]))  # level 0 is stage 1 upsampled
