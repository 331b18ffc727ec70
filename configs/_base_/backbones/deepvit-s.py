# DeepViT-S: 16 blocks of 396 channels (re-attention in the last 5, convolutional stem), from
# the official ImageNet-1k weights. No published dense setting: drop path 0.1 for segmentation
# (mmseg's DeiT-B), 0.1 for detection (ViTDet-B) and 0.3 for pose (ViTPose-B).
_base_ = ['./deepvit.py']

backbone = dict(_base_.backbone, arch='s', out_indices=(3, 7, 11, 15), drop_path_rate=0.1,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/deepvit-s_in1k.pth'))
backbone_channels = [396] * 16
backbone_det = dict(backbone, **_base_.vitdet, out_indices=(15, ), drop_path_rate=0.1)
backbone_pose = dict(backbone, **_base_.vitpose, out_indices=(15, ), drop_path_rate=0.3)
