# CrossViT-15-dagger: 3 encoders of 1 + 5 blocks, S-branch 192 channels (patches of 12 on the input
# as it is), L-branch 384 (patches of 16 on the input resized by 224/240), 6 heads, the
# three-convolution patch embedding, from the official ImageNet-1k weights
# (`crossvit_15_dagger_224.pth`; timm `crossvit_15_dagger_240.in1k`, 82.3 top-1). 15 layers for
# layer-wise lr decay, close to ViT-B's 12: the recipes' rates as they are. No published dense
# setting: drop path 0.1 for detection (ViTDet-B) and segmentation (mmseg's DeiT-B), 0.3 for pose
# (ViTPose-B).
_base_ = ['./crossvit.py']

backbone = dict(_base_.backbone, arch='15-dagger', drop_path_rate=0.1,
                init_cfg=dict(type='Pretrained',
                              checkpoint='checkpoints/crossvit-15-dagger_in1k.pth'))
backbone_channels = [192, 384]
backbone_pose = dict(backbone, drop_path_rate=0.3)
# the neck of every method, on both branches (their strides in the input)
pyramid = dict(type='MultiBranchFeaturePyramid', in_channels=backbone_channels,
               in_strides=(12, 16 * 240 / 224))
