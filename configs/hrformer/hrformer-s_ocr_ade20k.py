# HRFormer-S + OCR, ADE20K (150 classes), 512x512 crops, 160k iterations, batch 8 (4 x 2). Published
# (520x520, 150k): 44.0 mIoU single-scale (HRFormer README).
_base_ = ['../_base_/recipes/ocr_ade20k-512x512.py', '../_base_/backbones/hrformer-s.py']

model = dict(backbone=_base_.backbone, decode_head=[dict(_base_.model.decode_head[0],
    in_channels=_base_.backbone_channels, channels=sum(_base_.backbone_channels)),
    dict(_base_.model.decode_head[1], in_channels=_base_.backbone_channels)])
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
