# T2T-ViT-14 + simple feature pyramid + Cascade Mask R-CNN, COCO, ViTDet's recipe: LSJ at 1024, 100
# epochs, batch 64 (32 x 2), window attention with a global block per quarter.
# No published T2T-ViT-14 detection result.
_base_ = ['../_base_/recipes/cascade-mask-rcnn_sfp_lsj-100e_coco.py',
          '../_base_/backbones/t2tvit-14.py']

model = dict(backbone=_base_.backbone_det, neck=dict(in_channels=384))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
