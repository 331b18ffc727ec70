# FasterViT-3 + UPerNet, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 16 (8 x 2).
# Published (paper, backbones.md §4.5; crop size and schedule not stated):
# 48.7 mIoU single-scale, 49.7 multi-scale.
_base_ = ['../_base_/fastervit_upernet_ade20k-512x512.py']

stage_channels = [128, 256, 512, 1024]
model = dict(
    backbone=dict(
        arch='3',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/fastervit-3_in1k.pth')),
    decode_head=dict(in_channels=stage_channels),
    auxiliary_head=dict(in_channels=stage_channels[2]))  # stride-16 stage
