# MViT v1-B-16 + FPN + Cascade Mask R-CNN, COCO, multi-scale + crop, 36 epochs, batch 16 (8 x 2). No
# published result: the MViTv2 paper compares MViT v1 with Mask R-CNN only.
_base_ = ['../_base_/recipes/cascade-mask-rcnn_fpn_ms-crop-3x_coco.py',
          '../_base_/backbones/mvitv1-b16.py']

model = dict(backbone=_base_.backbone_det, neck=dict(in_channels=_base_.backbone_channels))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
