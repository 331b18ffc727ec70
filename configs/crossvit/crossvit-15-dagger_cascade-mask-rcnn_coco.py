# CrossViT-15-dagger + MultiBranchFeaturePyramid (strides 4-32 from both branches, a max-pooled
# stride 64, 256 channels) + Cascade Mask R-CNN, COCO, ViTDet's recipe: LSJ at 1024, 100 epochs,
# batch 64 (32 x 2); global attention (the class tokens stay).
# No published CrossViT detection result.
_base_ = ['../_base_/recipes/cascade-mask-rcnn_sfp_lsj-100e_coco.py',
          '../_base_/backbones/crossvit-15-dagger.py']

model = dict(backbone=_base_.backbone, neck=_base_.pyramid)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
