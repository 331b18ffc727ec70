# HRFormer-S top-down heatmap, COCO keypoints, 384x288, 210 epochs, batch 32 per GPU. Published
# (COCO val, person detections 56.4 AP): 75.6 AP (HRFormer), 75.7 (mmpose 1.x).
_base_ = ['../_base_/recipes/heatmap_coco-384x288.py', '../_base_/backbones/hrformer-s.py']

model = dict(backbone=_base_.backbone_pose, head=dict(in_channels=_base_.backbone_channels[0]))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
