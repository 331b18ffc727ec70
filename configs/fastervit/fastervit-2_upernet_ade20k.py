# FasterViT-2 + UPerNet, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 16 (8 x 2).
# Published (paper, backbones.md §4.5; crop size and schedule not stated):
# 47.2 mIoU single-scale, 48.4 multi-scale.
_base_ = ['../_base_/fastervit_upernet_ade20k-512x512.py']

stage_channels = [96, 192, 384, 768]
model = dict(
    backbone=dict(
        arch='2',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/fastervit-2_in1k.pth')),
    decode_head=dict(in_channels=stage_channels),
    auxiliary_head=dict(in_channels=stage_channels[2]))  # stride-16 stage
