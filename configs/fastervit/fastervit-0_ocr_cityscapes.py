# FasterViT-0 + OCR, Cityscapes, 512x1024 crops, 80k iterations, batch 8 (4 GPUs x 2), SyncBN.
# No published FasterViT Cityscapes result; the recipe (HRFormer's OCR recipe) is explained in the
# base config.
_base_ = ['../_base_/fastervit_ocr_cityscapes-512x1024.py']

model = dict(
    backbone=dict(
        arch='0',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/fastervit-0_in1k.pth')))
