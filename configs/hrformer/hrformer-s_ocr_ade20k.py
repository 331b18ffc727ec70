# HRFormer-S + OCR, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 8 (4 GPUs x 2).
# Published (520x520, 150k): 44.0 mIoU single-scale (HRFormer README).
_base_ = ['../_base_/hrformer_ocr_ade20k-512x512.py']

model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/hrformer-s_in1k.pth')))
