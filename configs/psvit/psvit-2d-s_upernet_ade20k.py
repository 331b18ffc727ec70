# PSViT-2D-S + UPerNet, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 16 (8 x 2).
# mmvitx's own PSViT instantiation (the paper's searched models are unpublished), so no published
# result; the recipe (FasterViT's, Swin's mmseg UPerNet recipe) is explained in the base config.
_base_ = ['../_base_/psvit_upernet_ade20k-512x512.py']

level_channels = [128, 128, 256, 512]  # level 0 is stage 1 upsampled
model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/psvit-2d-s_in1k.pth')),
    decode_head=dict(in_channels=level_channels),
    auxiliary_head=dict(in_channels=level_channels[2]))  # stride-16 level
