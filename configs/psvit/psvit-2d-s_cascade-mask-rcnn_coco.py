# PSViT-2D-S + FPN + Cascade Mask R-CNN, COCO, multi-scale 3x schedule, batch 16 (8 x 2). mmvitx's
# own PSViT instantiation: no published result.
_base_ = ['../_base_/recipes/cascade-mask-rcnn_fpn_ms-3x_coco.py',
          '../_base_/backbones/psvit-2d-s.py']

model = dict(backbone=_base_.backbone_det, neck=dict(in_channels=_base_.backbone_channels))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
