# FasterViT-3: stages of 128/256/512/1024 channels at strides 4/8/16/32; drop path 0.3.
_base_ = ['./fastervit.py']

backbone = dict(_base_.backbone, arch='3', drop_path_rate=0.3,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/fastervit-3_in1k.pth'))
backbone_channels = [128, 256, 512, 1024]
