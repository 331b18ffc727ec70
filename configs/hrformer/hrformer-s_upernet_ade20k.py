# HRFormer-S + UPerNet, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 16 (8 GPUs x 2).
# No published HRFormer UPerNet result; the recipe (Swin's mmseg UPerNet recipe) is explained in
# the base config.
_base_ = ['../_base_/hrformer_upernet_ade20k-512x512.py']

model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/hrformer-s_in1k.pth')))
