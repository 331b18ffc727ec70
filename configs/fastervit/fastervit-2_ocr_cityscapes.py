# FasterViT-2 + OCR, Cityscapes, 512x1024 crops, 80k iterations, batch 8 (4 GPUs x 2), SyncBN.
# No published FasterViT Cityscapes result; the recipe (HRFormer's OCR recipe) is explained in the
# base config.
_base_ = ['../_base_/fastervit_ocr_cityscapes-512x1024.py']

stage_channels = [96, 192, 384, 768]
model = dict(
    backbone=dict(
        arch='2',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/fastervit-2_in1k.pth')),
    decode_head=[
        # FCN auxiliary head, then OCR head; both read all four stages (resize_concat)
        dict(
            _base_.model.decode_head[0],
            in_channels=stage_channels,
            channels=sum(stage_channels)),
        dict(_base_.model.decode_head[1], in_channels=stage_channels),
    ])
