# TNT-S top-down heatmap pose, COCO keypoints, 256x192, ViTPose's recipe: 210 epochs, batch 64
# per GPU (8 GPUs).
# No published TNT-S pose result.
_base_ = ['../_base_/recipes/heatmap_vitpose_coco-256x192.py', '../_base_/backbones/tnt-s.py']

model = dict(backbone=_base_.backbone_pose, head=dict(in_channels=384))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
