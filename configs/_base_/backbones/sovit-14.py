# So-ViT-14: a bottleneck stem and 14 blocks of 384 channels (6 heads), from the official
# ImageNet-1k weights (`So-ViT-14.pth.tar`, 81.8 % top-1 at 224 as published, 82.3 % for the
# README's upgraded training; the figures are those of the whole classifier, second-order head
# included). No published dense setting: drop path 0.1 for segmentation (mmseg's DeiT-B), 0.1 for
# detection (ViTDet-B) and 0.3 for pose (ViTPose-B).
_base_ = ['./sovit.py']

backbone = dict(_base_.backbone, arch='14', out_indices=(2, 6, 9, 13), drop_path_rate=0.1,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/sovit-14_in1k.pth'))
backbone_channels = [384] * 14
backbone_det = dict(backbone, **_base_.vitdet, out_indices=(13, ), drop_path_rate=0.1)
backbone_pose = dict(backbone, **_base_.vitpose, out_indices=(13, ), drop_path_rate=0.3)
