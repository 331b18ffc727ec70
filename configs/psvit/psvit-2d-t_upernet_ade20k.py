# PSViT-2D-T + UPerNet, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 16 (8 x 2).
# mmvitx's own PSViT instantiation (the paper's searched models are unpublished), so no published
# result; the recipe (FasterViT's, Swin's mmseg UPerNet recipe) is explained in the base config.
_base_ = ['../_base_/psvit_upernet_ade20k-512x512.py']

model = dict(
    backbone=dict(
        arch='t',
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/psvit-2d-t_in1k.pth')))
