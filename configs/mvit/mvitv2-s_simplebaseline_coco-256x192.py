# MViTv2-S SimpleBaseline (3 deconvolutions on the stride-32 output), COCO keypoints, 256x192, 210
# epochs, batch 64 per GPU. No published MViT pose result.
_base_ = ['../_base_/recipes/simplebaseline_coco-256x192.py', '../_base_/backbones/mvitv2-s.py']

model = dict(backbone=_base_.backbone, head=dict(in_channels=_base_.backbone_channels[3]))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
