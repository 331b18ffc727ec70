# DeiT-B: 12 blocks of 768 channels, from DeiT's ImageNet-1k weights
# (`deit_base_patch16_224-b5f2ef4d.pth`). Drop path 0.1 for segmentation (mmseg's DeiT-B
# configs), ViTDet-B's 0.1 for detection and ViTPose-B's 0.3 for pose.
_base_ = ['./deit.py']

backbone = dict(_base_.backbone, arch='b', out_indices=(2, 5, 8, 11), drop_path_rate=0.1,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/deit-b_in1k.pth'))
backbone_channels = [768] * 12
backbone_det = dict(backbone, **_base_.vitdet, out_indices=(11, ), drop_path_rate=0.1)
backbone_pose = dict(backbone, **_base_.vitpose, out_indices=(11, ), drop_path_rate=0.3)
