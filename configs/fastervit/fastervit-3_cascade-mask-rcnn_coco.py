# FasterViT-3 + FPN + Cascade Mask R-CNN, COCO, multi-scale 3x schedule, batch 16 (8 x 2). Published
# (FasterViT paper): 52.4 box AP / 45.4 mask AP (AP50/AP75: 71.1/56.7 box, 68.7/49.3 mask).
_base_ = ['../_base_/recipes/cascade-mask-rcnn_fpn_ms-3x_coco.py',
          '../_base_/backbones/fastervit-3.py']

model = dict(backbone=_base_.backbone, neck=dict(in_channels=_base_.backbone_channels))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
