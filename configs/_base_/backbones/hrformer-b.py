# HRFormer-B: branches of 78/156/312/624 channels at strides 4/8/16/32. Drop path: 0.4 for
# segmentation, 0.3 for detection (Swin-S's), 0.2 for pose.
_base_ = ['./hrformer.py']

backbone = dict(_base_.backbone, arch='b', drop_path_rate=0.4,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/hrformer-b_in1k.pth'))
backbone_channels = [78, 156, 312, 624]
backbone_det = dict(backbone, drop_path_rate=0.3)
backbone_pose = dict(backbone, drop_path_rate=0.2)
