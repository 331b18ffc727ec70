# HRFormer-B + OCR, Cityscapes, 512x1024 crops, 80k iterations, batch 8 (4 GPUs x 2), SyncBN.
# Published: 81.4 mIoU single-scale (HRFormer README); mmseg-PR reproduction 82.07.
_base_ = ['../_base_/hrformer_ocr_cityscapes-512x1024.py']

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
