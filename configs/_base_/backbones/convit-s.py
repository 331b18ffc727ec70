# ConViT-S: 12 blocks of 432 channels (9 heads), from the official ImageNet-1k weights
# (`convit_small.pth`). No published dense setting: drop path 0.1 for segmentation (mmseg's
# DeiT-B), 0.1 for detection (ViTDet-B) and 0.3 for pose (ViTPose-B).
_base_ = ['./convit.py']

backbone = dict(_base_.backbone, arch='s', out_indices=(2, 5, 8, 11), drop_path_rate=0.1,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/convit-s_in1k.pth'))
backbone_channels = [432] * 12
backbone_det = dict(backbone, **_base_.vitdet, out_indices=(11, ), drop_path_rate=0.1)
backbone_pose = dict(backbone, **_base_.vitpose, out_indices=(11, ), drop_path_rate=0.3)
