# MViTv2-S: stages of 96/192/384/768 channels at strides 4/8/16/32. Drop path 0.1 (ImageNet),
# 0.2 for detection (detectron2's MViTv2-S config keeps MViTv2-T's).
_base_ = ['./mvit.py']

backbone = dict(_base_.backbone, arch='s', drop_path_rate=0.1,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/mvitv2-s_in1k.pth'))
backbone_channels = [96, 192, 384, 768]
backbone_det = dict(backbone, window_attention=True, drop_path_rate=0.2)
backbone_ocr = dict(backbone, window_attention=True)
