# FasterViT (0 by default) + UPerNet on ADE20K (150 classes): 512x512 crops, 160k iterations,
# batch 16 (2 images x 8 GPUs).
#
# The paper's segmentation setting (backbones.md §4.5): UPerNet, AdamW lr 6e-5, weight decay 0.01,
# batch 16 on 8 GPUs; crop size and schedule length are not given, so this is mmseg's standard
# ADE20K 512x512/160k setting, as in Swin's mmseg UPerNet configs. Also from there: UPerHead over
# the four stages (strides 4/8/16/32), an FCN auxiliary head (weight 0.4) on the stride-16 stage,
# 1500-iteration linear warm-up then poly decay to 0 (the shared schedule
# `hrformer_seg-adamw-poly_160k.py`, whose optimizer only differs in lr and in its HRFormer
# no-decay key, both replaced here).
# Drop path, the no-decay parameters (normalization layers, position MLPs, layer scales) and the
# SyncBN of the stem and convolutional stages are those of
# `fastervit_cascade-mask-rcnn_fpn_ms-3x_coco.py`, where the reasons are given.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    './schedules/hrformer_seg-adamw-poly_160k.py',
]

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
norm_cfg = dict(type='SyncBN', requires_grad=True)
stage_channels = [64, 128, 256, 512]  # FasterViT-0; -2 96/192/384/768, -3 128/.., -4 196/..
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmvitx.FasterViT',
        arch='0',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.2,
        frozen_stages=-1,
        norm_eval=False,
        with_cp=False,
        norm_cfg=norm_cfg,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/fastervit-0_in1k.pth')),
    decode_head=dict(in_channels=stage_channels, num_classes=150),
    auxiliary_head=dict(in_channels=stage_channels[2], num_classes=150))

optim_wrapper = dict(
    optimizer=dict(lr=6e-5),
    paramwise_cfg=dict(
        custom_keys={
            '_delete_': True,
            '.cpb.': dict(decay_mult=0.0),
            '.window_pos.': dict(decay_mult=0.0),
            '.ct_pos.': dict(decay_mult=0.0),
            'ls1.weight': dict(decay_mult=0.0),
            'ls2.weight': dict(decay_mult=0.0),
        }))

train_dataloader = dict(batch_size=2)  # x 8 GPUs = 16
