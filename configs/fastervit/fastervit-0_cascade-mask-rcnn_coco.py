# FasterViT-0 + FPN + Cascade Mask R-CNN, COCO, multi-scale 3x schedule, batch 16 (8 x 2). No
# published FasterViT-0 result: the small-machine sibling of the -2/-3/-4 configs.
_base_ = ['../_base_/recipes/cascade-mask-rcnn_fpn_ms-3x_coco.py',
          '../_base_/backbones/fastervit-0.py']

model = dict(backbone=_base_.backbone, neck=dict(in_channels=_base_.backbone_channels))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
