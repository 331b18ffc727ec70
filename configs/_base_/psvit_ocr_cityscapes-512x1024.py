# PSViT (2-D design, Tiny by default) + OCR on Cityscapes: 512x1024 crops, 80k iterations, batch 8
# (2 images x 4 GPUs). Data pipeline, evaluation (mIoU, whole-image inference at 1024x2048) and
# runtime are mmseg's packaged Cityscapes settings.
#
# The backbones are mmvitx's own PSViT instantiations (README, "PSViT"), not the paper's searched
# models, which are unpublished. PSViT publishes no dense-prediction recipe (backbones.md §3), so
# this is the recipe of the HRFormer OCR configs, as for FasterViT
# (`fastervit_ocr_cityscapes-512x1024.py`, so that the backbones compare directly): mmseg's OCRNet
# structure (an FCN auxiliary head, weight 0.4, then the OCR head, both over all four levels
# resized to 1/4 and concatenated, `resize_concat`), OHEM (thresh 0.9, min_kept 100000) on both
# heads, AdamW lr 1e-4 with weight decay 0.01, 1500-iteration linear warm-up then poly decay (the
# shared schedule `hrformer_seg-adamw-poly_80k.py`; its HRFormer no-decay key is replaced by
# PSViT's). The heads keep mmseg's SyncBN; PSViT has no BatchNorm.
# - Attention: hybrid windows (window_size 14, as in the detection configs). Globally, the
#   whole-image inference at 1024x2048 gives stage 1 32k tokens (128x256), whose attention maps
#   are materialised for the sharing layers: 4.3 GB per head in fp32 (PSViT-2D-S: 2 heads), about
#   17 GB for one layer's scores and softmax. UPerNet's 512x512 ADE20K setting (4k tokens) and
#   pose stay global.
# Drop path (0.1, DeiT's rate), the no-decay parameters (normalization layers, `pos_embed`,
# `cls_token`) and the stride-4 level (stage 1 upsampled) are those of
# `psvit_cascade-mask-rcnn_fpn_ms-3x_coco.py`, where the reasons are given.
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
        window_size=14,
        drop_path_rate=0.1,
        frozen_stages=-1,
        norm_eval=False,
        with_cp=False,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/psvit-2d-t_in1k.pth')),
    decode_head=[
        dict(
            _base_.model.decode_head[0],
            in_channels=level_channels,
            channels=sum(level_channels),
            sampler=ohem),
        dict(_base_.model.decode_head[1], in_channels=level_channels, sampler=ohem),
    ])

optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            '_delete_': True,
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        }))

train_dataloader = dict(batch_size=2)  # x 4 GPUs = 8, as in HRFormer's Cityscapes runs
