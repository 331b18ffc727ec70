# MViTv2-B: stages of 96/192/384/768 channels at strides 4/8/16/32. Drop path 0.3 (ImageNet),
# 0.4 for detection (detectron2).
_base_ = ['./mvit.py']

backbone = dict(_base_.backbone, arch='b', drop_path_rate=0.3,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/mvitv2-b_in1k.pth'))
backbone_channels = [96, 192, 384, 768]
backbone_det = dict(backbone, window_attention=True, drop_path_rate=0.4)
