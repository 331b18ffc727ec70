# PSViT-2D-S + OCR, Cityscapes, 512x1024 crops, 80k iterations, batch 8 (4 x 2). mmvitx's own PSViT
# instantiation: no published result.
_base_ = ['../_base_/recipes/ocr_cityscapes-512x1024.py', '../_base_/backbones/psvit-2d-s.py']

model = dict(backbone=_base_.backbone_ocr, decode_head=[dict(_base_.model.decode_head[0],
    in_channels=_base_.backbone_channels, channels=sum(_base_.backbone_channels)),
    dict(_base_.model.decode_head[1], in_channels=_base_.backbone_channels)])
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))
