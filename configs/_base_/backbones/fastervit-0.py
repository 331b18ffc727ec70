# FasterViT-0: stages of 64/128/256/512 channels at strides 4/8/16/32; drop path 0.2.
_base_ = ['./fastervit.py']

backbone = dict(_base_.backbone, arch='0', drop_path_rate=0.2,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/fastervit-0_in1k.pth'))
backbone_channels = [64, 128, 256, 512]
