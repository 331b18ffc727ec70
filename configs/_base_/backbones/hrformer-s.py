# HRFormer-S: branches of 32/64/128/256 channels at strides 4/8/16/32. Drop path: 0.2 for
# segmentation, the same for detection (Swin-T's), 0.1 for pose.
_base_ = ['./hrformer.py']

backbone = dict(_base_.backbone, arch='s', drop_path_rate=0.2,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/hrformer-s_in1k.pth'))
backbone_channels = [32, 64, 128, 256]
backbone_det = backbone
backbone_pose = dict(backbone, drop_path_rate=0.1)
