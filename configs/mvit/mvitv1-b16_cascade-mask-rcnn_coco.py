# MViT v1-B-16 + FPN + Cascade Mask R-CNN, COCO, multi-scale + crop, 36 epochs, batch 16
# (8 GPUs x 2). No published MViT v1 Cascade Mask R-CNN result (the MViTv2 paper compares MViT v1
# with Mask R-CNN only, backbones.md §2.8): the v1 sibling of the MViTv2 configs, with global
# attention (v1's class token attends globally, so no hybrid window attention) and the drop path
# that detectron2 gives MViTv2-S, the v2 model of the same depth.
# The recipe (detectron2's, on mmdet's ConvNeXt cascade) is explained in the base config.
_base_ = ['../_base_/mvit_cascade-mask-rcnn_fpn_ms-crop-3x_coco.py']

model = dict(
    backbone=dict(
        arch='v1-b-16',
        window_attention=False,
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/mvitv1-b16_in1k.pth')),
    neck=dict(in_channels=[192, 384, 768, 768]))  # v1 widens before each transition
