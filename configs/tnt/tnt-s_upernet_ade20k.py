# TNT-S + MultiLevelNeck + UPerNet, ADE20K (150 classes), 512x512 crops, mmseg's ViT recipe,
# batch 16 (8 x 2), 160k iterations.
# No published TNT-S result in this setting.
_base_ = ['../_base_/recipes/upernet_mln_ade20k-512x512.py', '../_base_/backbones/tnt-s.py']

model = dict(backbone=_base_.backbone,
             neck=dict(in_channels=[384] * 4, out_channels=384),
             decode_head=dict(in_channels=[384] * 4),
             auxiliary_head=dict(in_channels=384))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
