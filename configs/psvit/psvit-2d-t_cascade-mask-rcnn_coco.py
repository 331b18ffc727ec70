# PSViT-2D-T + FPN + Cascade Mask R-CNN, COCO, multi-scale 3x schedule, batch 16 (8 GPUs x 2),
# hybrid window attention (14x14 tokens). mmvitx's own PSViT instantiation (the paper's searched
# models are unpublished), so no published result; the recipe (FasterViT's, so that the backbones
# compare directly) is explained in the base config.
_base_ = ['../_base_/psvit_cascade-mask-rcnn_fpn_ms-3x_coco.py']

model = dict(
    backbone=dict(
        arch='t',
        window_size=14,
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/psvit-2d-t_in1k.pth')))
