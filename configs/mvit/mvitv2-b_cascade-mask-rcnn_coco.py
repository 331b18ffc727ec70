# MViTv2-B + FPN + Cascade Mask R-CNN, COCO, multi-scale + crop, 36 epochs, batch 16 (8 x 2).
# Published (MViTv2 paper, Table 5, and detectron2; IN-1k pre-training, batch 64): 54.1 box AP /
# 46.8 mask AP (AP50/AP75: 72.9/58.5 box, 70.6/50.8 mask); 103M parameters, 814G FLOPs.
_base_ = ['../_base_/recipes/cascade-mask-rcnn_fpn_ms-crop-3x_coco.py',
          '../_base_/backbones/mvitv2-b.py']

model = dict(backbone=_base_.backbone_det, neck=dict(in_channels=_base_.backbone_channels))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
