# MViT v1-B-16 + OCR, Cityscapes, 512x1024 crops, 80k iterations, batch 8 (4 GPUs x 2), global
# attention (v1's class token attends globally). No published MViT Cityscapes result; the recipe
# (HRFormer's OCR recipe) is explained in the base config.
_base_ = ['../_base_/mvit_ocr_cityscapes-512x1024.py']

stage_channels = [192, 384, 768, 768]  # v1 widens in the MLP of the block before each transition
model = dict(
    backbone=dict(
        arch='v1-b-16',
        window_attention=False,
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/mvitv1-b16_in1k.pth')),
    decode_head=[
        # FCN auxiliary head, then OCR head; both read all four stages (resize_concat)
        dict(
            _base_.model.decode_head[0],
            in_channels=stage_channels,
            channels=sum(stage_channels)),
        dict(_base_.model.decode_head[1], in_channels=stage_channels),
    ])
