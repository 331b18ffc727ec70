# HRFormer-B + OCR, Cityscapes, 512x1024 crops, 80k iterations, batch 8 (4 x 2). Published: 81.4
# mIoU single-scale (HRFormer README); mmseg-PR reproduction 82.07.
_base_ = ['../_base_/recipes/ocr_cityscapes-512x1024.py', '../_base_/backbones/hrformer-b.py']

model = dict(backbone=_base_.backbone, decode_head=[dict(_base_.model.decode_head[0],
    in_channels=_base_.backbone_channels, channels=sum(_base_.backbone_channels)),
    dict(_base_.model.decode_head[1], in_channels=_base_.backbone_channels)])
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
