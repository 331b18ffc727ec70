# HRFormer-T: branches of 18/36/72/144 channels at strides 4/8/16/32. HRFormer publishes no
# dense-prediction setting for it; the demo config uses it.
_base_ = ['./hrformer.py']

backbone = dict(_base_.backbone, arch='t',
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/hrformer-t_in1k.pth'))
backbone_channels = [18, 36, 72, 144]
