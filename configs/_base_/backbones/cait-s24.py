# CaiT-S24: 24 self-attention blocks of 384 channels, from CaiT's ImageNet-1k weights at 224
# (`S24_224.pth`). No published dense setting: drop path 0.1 for segmentation (mmseg's DeiT-B),
# 0.1 for detection (ViTDet-B) and 0.3 for pose (ViTPose-B).
_base_ = ['./cait.py']

backbone = dict(_base_.backbone, arch='s24', out_indices=(5, 11, 17, 23), drop_path_rate=0.1,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/cait-s24_in1k.pth'))
backbone_channels = [384] * 24
backbone_det = dict(backbone, **_base_.vitdet, out_indices=(23, ), drop_path_rate=0.1)
backbone_pose = dict(backbone, **_base_.vitpose, out_indices=(23, ), drop_path_rate=0.3)
