# CrossViT-15-dagger top-down heatmap pose, COCO keypoints, 256x192, ViTPose's recipe: 210 epochs,
# batch 64 per GPU (8 GPUs); MultiBranchFeaturePyramid gives ViTPose's head one stride-16 map of
# both branches (16x12, at the L-branch's width).
# No published CrossViT pose result.
_base_ = ['../_base_/recipes/heatmap_vitpose_coco-256x192.py',
          '../_base_/backbones/crossvit-15-dagger.py']

model = dict(backbone=_base_.backbone_pose,
             neck=dict(_base_.pyramid, out_channels=384, strides=(16, )),
             head=dict(in_channels=384))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
