# HRFormer-S + OCR, Cityscapes, 512x1024 crops, 80k iterations, batch 8 (4 GPUs x 2), SyncBN.
# Published: 80.0 mIoU single-scale (HRFormer README); mmseg-PR reproduction 80.68.
_base_ = ['../_base_/hrformer_ocr_cityscapes-512x1024.py']

model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/hrformer-s_in1k.pth')))
