# FasterViT-2 + FPN + Cascade Mask R-CNN, COCO, multi-scale 3x schedule, batch 16 (8 x 2). Published
# (FasterViT paper): 52.1 box AP / 45.4 mask AP (AP50/AP75: 71.0/56.6 box, 68.4/49.0 mask).
_base_ = ['../_base_/recipes/cascade-mask-rcnn_fpn_ms-3x_coco.py',
          '../_base_/backbones/fastervit-2.py']

model = dict(backbone=_base_.backbone, neck=dict(in_channels=_base_.backbone_channels))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
