# HRFormer-S + OCR (with an FCN auxiliary head), as in HRFormer's segmentation results
# (backbones.md §5.2/§5.6). The OCRNet structure of mmseg's HRNet-W18 model is inherited and only
# the backbone and the head input channels are replaced: both heads take all four branches,
# resized to 1/4 and concatenated (`resize_concat`).
# OHEM (thresh 0.9, min_kept 100000) on both heads follows the HRFormer/mmseg-PR recipe.
_base_ = ['mmseg::_base_/models/ocrnet_hr18.py']

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

norm_cfg = dict(type='SyncBN', requires_grad=True)
branch_channels = [32, 64, 128, 256]  # HRFormer-S; T 18/36/72/144, B 78/156/312/624
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        # scope-qualified: mmpose registers an `HRFormer` of its own
        type='mmvitx.HRFormer',
        arch='s',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.2,
        frozen_stages=-1,
        norm_eval=False,
        with_cp=False,
        norm_cfg=norm_cfg,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/hrformer-s_in1k.pth')),
    decode_head=[
        dict(
            type='FCNHead',
            in_channels=branch_channels,
            channels=sum(branch_channels),
            in_index=(0, 1, 2, 3),
            input_transform='resize_concat',
            kernel_size=1,
            num_convs=1,
            concat_input=False,
            dropout_ratio=-1,
            num_classes=19,
            norm_cfg=norm_cfg,
            align_corners=False,
            sampler=dict(type='OHEMPixelSampler', thresh=0.9, min_kept=100000),
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
        dict(
            type='OCRHead',
            in_channels=branch_channels,
            in_index=(0, 1, 2, 3),
            input_transform='resize_concat',
            channels=512,
            ocr_channels=256,
            dropout_ratio=-1,
            num_classes=19,
            norm_cfg=norm_cfg,
            align_corners=False,
            sampler=dict(type='OHEMPixelSampler', thresh=0.9, min_kept=100000),
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    ])
