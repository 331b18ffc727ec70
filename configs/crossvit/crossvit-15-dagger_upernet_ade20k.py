# CrossViT-15-dagger + MultiBranchFeaturePyramid (strides 4-32 from both branches, at the L-branch's
# width) + UPerNet, ADE20K (150 classes), 512x512 crops, mmseg's ViT recipe, batch 16 (8 x 2),
# 160k iterations.
# No published CrossViT segmentation result.
_base_ = ['../_base_/recipes/upernet_mln_ade20k-512x512.py',
          '../_base_/backbones/crossvit-15-dagger.py']

model = dict(backbone=_base_.backbone, neck=dict(_base_.pyramid, _delete_=True, out_channels=384),
             decode_head=dict(in_channels=[384] * 4), auxiliary_head=dict(in_channels=384))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
