# ViT-B/16: 12 blocks of 768 channels. `backbone` (segmentation) starts from ImageNet-21k
# pre-training fine-tuned on ImageNet-1k at 224 (timm's `vit_base_patch16_224.orig_in21k_ft_in1k`,
# the `jx_vit_base_p16_224` file of mmseg's ViT-B runs), without drop path (mmseg's ViT-B
# configs); `backbone_det` and `backbone_pose` from MAE's ImageNet-1k pre-training
# (`mae_pretrain_vit_base.pth`) as ViTDet and ViTPose do, with ViTDet-B's drop path 0.1 and
# ViTPose-B's 0.3.
_base_ = ['./vit.py']

backbone = dict(_base_.backbone, arch='b', out_indices=(2, 5, 8, 11), drop_path_rate=0.0,
                init_cfg=dict(type='Pretrained', checkpoint='checkpoints/vit-b_in1k.pth'))
backbone_channels = [768] * 12
mae = dict(type='Pretrained', checkpoint='checkpoints/vit-b_mae_in1k.pth')
backbone_det = dict(backbone, **_base_.vitdet, out_indices=(11, ), drop_path_rate=0.1,
                    init_cfg=mae)
backbone_pose = dict(backbone, **_base_.vitpose, out_indices=(11, ), drop_path_rate=0.3,
                     init_cfg=mae)
