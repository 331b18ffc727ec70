# FasterViT-0 + UPerNet, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 16 (8 x 2).
# No published FasterViT-0 UPerNet result: the small-machine sibling of the -2/-3/-4 configs.
_base_ = ['../_base_/fastervit_upernet_ade20k-512x512.py']

model = dict(
    backbone=dict(
        arch='0',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/fastervit-0_in1k.pth')))
