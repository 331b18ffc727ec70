# MViTv2-S + OCR, Cityscapes, 512x1024 crops, 80k iterations, batch 8 (4 GPUs x 2), hybrid
# window attention. No published MViT Cityscapes result; the recipe (HRFormer's OCR recipe) is
# explained in the base config.
_base_ = ['../_base_/mvit_ocr_cityscapes-512x1024.py']

model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/mvitv2-s_in1k.pth')))
