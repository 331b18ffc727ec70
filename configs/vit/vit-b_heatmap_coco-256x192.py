# ViT-B/16 (MAE) top-down heatmap pose, COCO keypoints, 256x192, ViTPose's recipe: 210 epochs,
# batch 64 per GPU (8 GPUs).
# Published (mmpose's `td-hm_ViTPose-base_8xb64-210e_coco-256x192`, vitpose_coco.yml; MAE
# pre-training): 75.7 AP (AP50 90.5, AP75 82.9, AR 81.0) on COCO val2017 with detected boxes.
_base_ = ['../_base_/recipes/heatmap_vitpose_coco-256x192.py', '../_base_/backbones/vit-b.py']

model = dict(backbone=_base_.backbone_pose, head=dict(in_channels=768))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
