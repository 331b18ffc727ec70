# FasterViT-4 + UPerNet, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 16 (8 x 2).
# Published (FasterViT paper; crop size and schedule not stated): 49.1 mIoU single-scale, 50.3
# multi-scale.
_base_ = ['../_base_/recipes/upernet_ade20k-512x512.py', '../_base_/backbones/fastervit-4.py']

model = dict(backbone=_base_.backbone, decode_head=dict(in_channels=_base_.backbone_channels),
             auxiliary_head=dict(in_channels=_base_.backbone_channels[2]))  # stride 16
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
