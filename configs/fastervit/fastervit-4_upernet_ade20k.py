# FasterViT-4 + UPerNet, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 16 (8 x 2).
# Published (paper, backbones.md §4.5; crop size and schedule not stated):
# 49.1 mIoU single-scale, 50.3 multi-scale.
_base_ = ['../_base_/fastervit_upernet_ade20k-512x512.py']

stage_channels = [196, 392, 784, 1568]
model = dict(
    backbone=dict(
        arch='4',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/fastervit-4_in1k.pth')),
    decode_head=dict(in_channels=stage_channels),
    auxiliary_head=dict(in_channels=stage_channels[2]))  # stride-16 stage
