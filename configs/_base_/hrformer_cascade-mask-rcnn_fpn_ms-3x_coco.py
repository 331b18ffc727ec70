# HRFormer (S by default) + FPN + Cascade Mask R-CNN on COCO, mmdet's multi-scale 3x schedule
# (RepeatDataset x3 over 12 epochs = 36 epochs, shorter side 640-800, steps at epochs 9 and 11
# of 12), batch 16 (2 images x 8 GPUs).
#
# HRFormer publishes no detection recipe (backbones.md §5.6). The optimizer is the Swin-style one
# used for transformer backbones in mmdet's 3x configs: AdamW lr 1e-4, betas (0.9, 0.999), weight
# decay 0.05, no decay on the relative position bias tables and the normalization layers.
# The backbone's BN layers (stem, stage 1, transitions, fuse layers, FFN) stay trainable and
# synchronized across GPUs (SyncBN, norm_eval False), as in HRFormer's other dense-prediction runs;
# drop path S 0.2 / B 0.3 follows Swin-T/S in mmdet's Mask R-CNN configs.
_base_ = ['mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_ms-3x_coco.py']

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

branch_channels = [32, 64, 128, 256]  # HRFormer-S; T 18/36/72/144, B 78/156/312/624
model = dict(
    backbone=dict(
        _delete_=True,
        # scope-qualified: mmpose registers an `HRFormer` of its own
        type='mmvitx.HRFormer',
        arch='s',
        out_indices=(0, 1, 2, 3),  # strides 4/8/16/32, FPN adds stride 64
        drop_path_rate=0.2,
        frozen_stages=-1,
        norm_eval=False,
        with_cp=False,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/hrformer-s_in1k.pth')),
    neck=dict(in_channels=branch_channels))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        _delete_=True,
        type='AdamW',
        lr=1e-4,
        betas=(0.9, 0.999),
        weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys={
            'relative_position_bias_table': dict(decay_mult=0.0),
        }))

# mmdet's `common/ms_3x_coco-instance.py` evaluates boxes only; add the mask AP.
val_evaluator = dict(metric=['bbox', 'segm'])
test_evaluator = val_evaluator
