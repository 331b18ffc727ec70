# CaiT-S24 top-down heatmap pose, COCO keypoints, 256x192, ViTPose's recipe: 210 epochs, batch 64
# per GPU (8 GPUs).
# No published CaiT-S24 pose result.
# Layer-wise lr decay 0.8: ViTPose's rate for 24 blocks (ViTPose-L).
_base_ = ['../_base_/recipes/heatmap_vitpose_coco-256x192.py', '../_base_/backbones/cait-s24.py']

model = dict(backbone=_base_.backbone_pose, head=dict(in_channels=384))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay, layer_decay_rate=0.8))
