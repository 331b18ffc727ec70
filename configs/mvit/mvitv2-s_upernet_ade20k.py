# MViTv2-S + UPerNet, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 16 (8 x 2).
# No published MViT segmentation result; the recipe (Swin's mmseg UPerNet recipe, as for FasterViT)
# is explained in the base config.
_base_ = ['../_base_/mvit_upernet_ade20k-512x512.py']

model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/mvitv2-s_in1k.pth')))
