# HRFormer-B + UPerNet, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 16 (8 GPUs x 2).
# No published HRFormer UPerNet result; the recipe (Swin's mmseg UPerNet recipe) is explained in
# the base config.
_base_ = ['../_base_/hrformer_upernet_ade20k-512x512.py']

branch_channels = [78, 156, 312, 624]
model = dict(
    backbone=dict(
        arch='b',
        drop_path_rate=0.4,
        init_cfg=dict(checkpoint='checkpoints/hrformer-b_in1k.pth')),
    decode_head=dict(in_channels=branch_channels),
    auxiliary_head=dict(in_channels=branch_channels[2]))  # stride-16 branch
