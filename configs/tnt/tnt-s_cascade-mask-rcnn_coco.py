# TNT-S + simple feature pyramid + Cascade Mask R-CNN, COCO, ViTDet's recipe: LSJ at 1024, 100
# epochs, batch 64 (32 x 2), window attention in the outer blocks with a global block per quarter.
# No published TNT-S result in this setting.
_base_ = ['../_base_/recipes/cascade-mask-rcnn_sfp_lsj-100e_coco.py',
          '../_base_/backbones/tnt-s.py']

model = dict(backbone=_base_.backbone_det, neck=dict(in_channels=384))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
