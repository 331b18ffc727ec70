# MViTv2-S + FPN + Cascade Mask R-CNN, COCO, multi-scale + crop, 36 epochs, batch 16 (8 x 2).
# Published (MViTv2 paper, Table 5, and detectron2; IN-1k pre-training, batch 64): 53.2 box AP /
# 46.0 mask AP (AP50/AP75: 72.4/58.0 box, 69.6/50.1 mask); 87M parameters, 748G FLOPs.
_base_ = ['../_base_/recipes/cascade-mask-rcnn_fpn_ms-crop-3x_coco.py',
          '../_base_/backbones/mvitv2-s.py']

model = dict(backbone=_base_.backbone_det, neck=dict(in_channels=_base_.backbone_channels))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
