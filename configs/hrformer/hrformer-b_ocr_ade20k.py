# HRFormer-B + OCR, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 8 (4 GPUs x 2).
# Published (520x520, 150k): 46.3 mIoU single-scale (HRFormer README).
_base_ = ['../_base_/hrformer_ocr_ade20k-512x512.py']

branch_channels = [78, 156, 312, 624]
model = dict(
    backbone=dict(
        arch='b',
        drop_path_rate=0.4,
        init_cfg=dict(checkpoint='checkpoints/hrformer-b_in1k.pth')),
    decode_head=[
        # FCN auxiliary head, then OCR head; both read all four branches (resize_concat)
        dict(
            _base_.model.decode_head[0],
            in_channels=branch_channels,
            channels=sum(branch_channels)),
        dict(_base_.model.decode_head[1], in_channels=branch_channels),
    ])
