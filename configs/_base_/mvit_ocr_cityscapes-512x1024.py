# MViT (MViTv2-T by default) + OCR on Cityscapes: 512x1024 crops, 80k iterations, batch 8 (2 images
# x 4 GPUs). Data pipeline, evaluation (mIoU, whole-image inference at 1024x2048) and runtime are
# mmseg's packaged Cityscapes settings.
#
# MViT publishes no Cityscapes result (backbones.md §2.8), so this is the recipe of the HRFormer OCR
# configs, as for FasterViT (`fastervit_ocr_cityscapes-512x1024.py`, so that the backbones compare
# directly): mmseg's OCRNet structure (an FCN auxiliary head, weight 0.4, then the OCR head, both
# over all four stages resized to 1/4 and concatenated, `resize_concat`), OHEM (thresh 0.9,
# min_kept 100000) on both heads, AdamW lr 1e-4 with weight decay 0.01, 1500-iteration linear
# warm-up then poly decay (the shared schedule `hrformer_seg-adamw-poly_80k.py`; its HRFormer
# no-decay key is replaced by MViT's). The heads keep mmseg's SyncBN; MViT has no BatchNorm.
# - Attention: MViTv2 uses its hybrid window attention (spec §2.11). Global attention at the
#   whole-image inference size would put 131k queries against 8k pooled keys in every stage-1
#   block, with a relative-position bias of that size per head. MViT v1 keeps global attention
#   (its class token attends globally; without a bias the memory-efficient SDPA kernels apply).
# Drop path (the ImageNet rate of each size) and the no-decay parameters (normalization layers,
# position terms) are those of `mvit_upernet_ade20k-512x512.py`, where the reasons are given.
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
stage_channels = [96, 192, 384, 768]  # MViTv2-T/S/B; MViT v1-B-16 192/384/768/768
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmvitx.MViT',
        arch='t',
        out_indices=(0, 1, 2, 3),
        window_attention=True,
        drop_path_rate=0.1,
        frozen_stages=-1,
        norm_eval=False,
        with_cp=False,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/mvitv2-t_in1k.pth')),
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
            'pos_embed': dict(decay_mult=0.0),
            'rel_pos_h': dict(decay_mult=0.0),
            'rel_pos_w': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        }))

train_dataloader = dict(batch_size=2)  # x 4 GPUs = 8, as in HRFormer's Cityscapes runs
