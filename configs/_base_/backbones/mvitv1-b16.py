# MViT v1-B-16: stages of 192/384/768/768 channels at strides 4/8/16/32 (v1 widens in the MLP of
# the block before each transition, so its stages end at 2C, 4C, 8C, 8C). Global attention in every
# task. Drop path 0.1 (ImageNet), 0.2 for detection: detectron2 publishes no v1 config, so it takes
# the rate of MViTv2-S, the v2 model of the same depth.
_base_ = ['./mvit.py']

backbone = dict(_base_.backbone, arch='v1-b-16', drop_path_rate=0.1,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/mvitv1-b16_in1k.pth'))
backbone_channels = [192, 384, 768, 768]
backbone_det = dict(backbone, drop_path_rate=0.2)
backbone_ocr = backbone
