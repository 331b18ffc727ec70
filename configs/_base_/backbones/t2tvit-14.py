# T2T-ViT-14: a Performer tokens-to-token stem and 14 blocks of 384 channels (6 heads), from the
# official ImageNet-1k weights (`81.5_T2T_ViT_14.pth.tar`, 81.5 % top-1 at 224). The Performer's
# cost is linear in the stride-4 tokens, so the stem also runs at ViTDet's 1024x1024. No
# published dense setting: drop path 0.1 for segmentation (mmseg's DeiT-B), 0.1 for detection
# (ViTDet-B) and 0.3 for pose (ViTPose-B).
_base_ = ['./t2tvit.py']

backbone = dict(_base_.backbone, arch='14', out_indices=(2, 6, 9, 13), drop_path_rate=0.1,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/t2tvit-14_in1k.pth'))
backbone_channels = [384] * 14
backbone_det = dict(backbone, **_base_.vitdet, out_indices=(13, ), drop_path_rate=0.1)
backbone_pose = dict(backbone, **_base_.vitpose, out_indices=(13, ), drop_path_rate=0.3)
