# MViT v1-B-16 + UPerNet, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 16 (8 x 2).
# No published MViT segmentation result; the recipe (Swin's mmseg UPerNet recipe, as for FasterViT)
# is explained in the base config.
_base_ = ['../_base_/mvit_upernet_ade20k-512x512.py']

stage_channels = [192, 384, 768, 768]  # v1 widens in the MLP of the block before each transition
model = dict(
    backbone=dict(
        arch='v1-b-16',
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/mvitv1-b16_in1k.pth')),
    decode_head=dict(in_channels=stage_channels),
    auxiliary_head=dict(in_channels=stage_channels[2]))  # stride-16 stage
