# TNT-S: 12 blocks of 384 channels (6 heads), words of 24 channels (4 heads), from the official
# ImageNet-1k weights (`tnt_s_81.5.pth.tar`). No published dense setting: drop path 0.1 for
# segmentation (mmseg's DeiT-B), 0.1 for detection (ViTDet-B) and 0.3 for pose (ViTPose-B).
_base_ = ['./tnt.py']

backbone = dict(_base_.backbone, arch='s', out_indices=(2, 5, 8, 11), drop_path_rate=0.1,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/tnt-s_in1k.pth'))
backbone_channels = [384] * 12
backbone_det = dict(backbone, **_base_.vitdet, out_indices=(11, ), drop_path_rate=0.1)
backbone_pose = dict(backbone, **_base_.vitpose, out_indices=(11, ), drop_path_rate=0.3)
