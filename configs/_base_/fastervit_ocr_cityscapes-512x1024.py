# FasterViT (0 by default) + OCR on Cityscapes: 512x1024 crops, 80k iterations, batch 8 (2 images x
# 4 GPUs). Data pipeline, evaluation (mIoU, whole-image inference at 1024x2048) and runtime are
# mmseg's packaged Cityscapes settings.
#
# FasterViT publishes no Cityscapes result (backbones.md §4.5), so this is the recipe of the
# HRFormer OCR configs, the only published transformer + OCR recipe on Cityscapes (so that the two
# backbones compare directly): mmseg's OCRNet structure (an FCN auxiliary head, weight 0.4, then
# the OCR head, both over all four stages resized to 1/4 and concatenated, `resize_concat`), OHEM
# (thresh 0.9, min_kept 100000) on both heads, AdamW lr 1e-4 with weight decay 0.01, 1500-iteration
# linear warm-up then poly decay (the shared schedule `hrformer_seg-adamw-poly_80k.py`; its
# HRFormer no-decay key is replaced by FasterViT's).
# Drop path, the no-decay parameters (normalization layers, position MLPs, layer scales) and the
# SyncBN of the stem and convolutional stages are those of
# `fastervit_cascade-mask-rcnn_fpn_ms-3x_coco.py`, where the reasons are given.
_base_ = [
    'mmseg::_base_/models/ocrnet_hr18.py',
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    './schedules/hrformer_seg-adamw-poly_80k.py',
]

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
ohem = dict(type='OHEMPixelSampler', thresh=0.9, min_kept=100000)
stage_channels = [64, 128, 256, 512]  # FasterViT-0; -2 96/192/384/768
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
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/fastervit-0_in1k.pth')),
    decode_head=[
        dict(
            _base_.model.decode_head[0],
            in_channels=stage_channels,
            channels=sum(stage_channels),
            sampler=ohem),
        dict(_base_.model.decode_head[1], in_channels=stage_channels, sampler=ohem),
    ])

optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            '_delete_': True,
            '.cpb.': dict(decay_mult=0.0),
            '.window_pos.': dict(decay_mult=0.0),
            '.ct_pos.': dict(decay_mult=0.0),
            'ls1.weight': dict(decay_mult=0.0),
            'ls2.weight': dict(decay_mult=0.0),
        }))

train_dataloader = dict(batch_size=2)  # x 4 GPUs = 8, as in HRFormer's Cityscapes runs
