# PSViT-2D-S (2-D token pooling): levels of 128/128/256/512 channels at strides 4/8/16/32.
_base_ = ['./psvit.py']

backbone = dict(_base_.backbone, arch='s', pooling='2d',
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/psvit-2d-s_in1k.pth'))
backbone_channels = [128, 128, 256, 512]
backbone_det = backbone_ocr = dict(backbone, window_size=14)
