# PSViT-2D-T (2-D token pooling): levels of 64/64/128/256 channels at strides 4/8/16/32.
_base_ = ['./psvit.py']

backbone = dict(_base_.backbone, arch='t', pooling='2d',
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/psvit-2d-t_in1k.pth'))
backbone_channels = [64, 64, 128, 256]
backbone_det = dict(backbone, window_size=14)
