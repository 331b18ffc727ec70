# FasterViT-4: stages of 196/392/784/1568 channels at strides 4/8/16/32; drop path 0.3.
_base_ = ['./fastervit.py']

backbone = dict(_base_.backbone, arch='4', drop_path_rate=0.3,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/fastervit-4_in1k.pth'))
backbone_channels = [196, 392, 784, 1568]
