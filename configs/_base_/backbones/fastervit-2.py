# FasterViT-2: stages of 96/192/384/768 channels at strides 4/8/16/32; drop path 0.2.
_base_ = ['./fastervit.py']

backbone = dict(_base_.backbone, arch='2', drop_path_rate=0.2,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/fastervit-2_in1k.pth'))
backbone_channels = [96, 192, 384, 768]
