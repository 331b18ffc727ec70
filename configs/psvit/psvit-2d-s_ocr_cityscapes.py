# PSViT-2D-S + OCR, Cityscapes, 512x1024 crops, 80k iterations, batch 8 (4 GPUs x 2), SyncBN heads.
# mmvitx's own PSViT instantiation (the paper's searched models are unpublished), so no published
# result; the recipe (HRFormer's OCR recipe, as for FasterViT) is explained in the base config.
_base_ = ['../_base_/psvit_ocr_cityscapes-512x1024.py']

level_channels = [128, 128, 256, 512]  # level 0 is stage 1 upsampled
model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/psvit-2d-s_in1k.pth')),
    decode_head=[
        # FCN auxiliary head, then OCR head; both read all four levels (resize_concat)
        dict(
            _base_.model.decode_head[0],
            in_channels=level_channels,
            channels=sum(level_channels)),
        dict(_base_.model.decode_head[1], in_channels=level_channels),
    ])
