# CaiT-S24 + simple feature pyramid + Cascade Mask R-CNN, COCO, ViTDet's recipe: LSJ at 1024, 100
# epochs, batch 64 (32 x 2), window attention with a global block per quarter.
# No published CaiT-S24 detection result.
# Layer-wise lr decay 0.8: ViTDet's rate for 24 blocks (ViT-L), as ViTDet-B's 0.7 would give the
# patch embedding 0.7^25 of the lr.
_base_ = ['../_base_/recipes/cascade-mask-rcnn_sfp_lsj-100e_coco.py',
          '../_base_/backbones/cait-s24.py']

model = dict(backbone=_base_.backbone_det, neck=dict(in_channels=384))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay, layer_decay_rate=0.8))
