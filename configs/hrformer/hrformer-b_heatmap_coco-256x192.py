# HRFormer-B top-down heatmap, COCO keypoints, 256x192, 210 epochs, batch 32 per GPU. Published
# (COCO val, person detections 56.4 AP): 75.6 AP (HRFormer), 75.4 (mmpose 1.x).
_base_ = ['../_base_/recipes/heatmap_coco-256x192.py', '../_base_/backbones/hrformer-b.py']

model = dict(backbone=_base_.backbone_pose, head=dict(in_channels=_base_.backbone_channels[0]))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
