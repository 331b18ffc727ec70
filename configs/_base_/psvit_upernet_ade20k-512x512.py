# PSViT (2-D design, Tiny by default) + UPerNet on ADE20K (150 classes): 512x512 crops, 160k
# iterations, batch 16 (2 images x 8 GPUs).
#
# The backbones are mmvitx's own PSViT instantiations (README, "PSViT"), not the paper's searched
# models, which are unpublished. PSViT publishes no dense-prediction recipe (backbones.md §3), so
# this is the FasterViT recipe (`fastervit_upernet_ade20k-512x512.py`, Swin's mmseg UPerNet
# recipe), so that the backbones compare directly: mmseg's standard ADE20K 512x512/160k setting,
# UPerHead over the four levels (strides 4/8/16/32, each output through its own new LayerNorm; the
# stride-4 level is stage 1 upsampled, see `psvit_cascade-mask-rcnn_fpn_ms-3x_coco.py`), an FCN
# auxiliary head (weight 0.4) on the stride-16 level, AdamW lr 6e-5, weight decay 0.01,
# 1500-iteration linear warm-up then poly decay to 0 (the shared schedule
# `hrformer_seg-adamw-poly_160k.py`, whose lr and HRFormer no-decay key are replaced here). The
# heads keep mmseg's SyncBN; PSViT has no BatchNorm.
# - Attention: global in every layer, the pretraining setting (window_size None): at a 512x512
#   crop stage 1 is a 64x64 map (4k tokens).
# Drop path (0.1, DeiT's rate) and the no-decay parameters (normalization layers, `pos_embed`,
# `cls_token`) are those of `psvit_cascade-mask-rcnn_fpn_ms-3x_coco.py`, where the reasons are
# given.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    './schedules/hrformer_seg-adamw-poly_160k.py',
]

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
level_channels = [64, 64, 128, 256]  # PSViT-2D-T; -S 128/128/256/512
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmvitx.PSViT',
        arch='t',
        pooling='2d',
        out_indices=(0, 1, 2, 3),
        window_size=None,
        drop_path_rate=0.1,
        frozen_stages=-1,
        norm_eval=False,
        with_cp=False,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/psvit-2d-t_in1k.pth')),
    decode_head=dict(in_channels=level_channels, num_classes=150),
    auxiliary_head=dict(in_channels=level_channels[2], num_classes=150))

optim_wrapper = dict(
    optimizer=dict(lr=6e-5),
    paramwise_cfg=dict(
        custom_keys={
            '_delete_': True,
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        }))

train_dataloader = dict(batch_size=2)  # x 8 GPUs = 16
