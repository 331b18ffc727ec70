# ViT-B/16 + MultiLevelNeck + UPerNet, ADE20K (150 classes), 512x512 crops, mmseg's ViT recipe,
# batch 16 (8 x 2), 80k iterations.
# Published (mmseg configs/vit/README.md, `vit_vit-b16_mln_upernet_8xb2-80k_ade20k-512x512`):
# 47.71 mIoU (49.51 multi-scale + flip), at 80k iterations: this config follows that run's
# schedule (the 160k-iteration run gave 46.75).
_base_ = ['../_base_/recipes/upernet_mln_ade20k-512x512.py', '../_base_/backbones/vit-b.py']

model = dict(backbone=_base_.backbone,
             neck=dict(in_channels=[768] * 4, out_channels=768),
             decode_head=dict(in_channels=[768] * 4),
             auxiliary_head=dict(in_channels=768))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
train_cfg = dict(max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
param_scheduler = [_base_.param_scheduler[0], dict(_base_.param_scheduler[1], end=80000)]
