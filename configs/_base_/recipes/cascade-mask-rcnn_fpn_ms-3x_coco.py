# Cascade Mask R-CNN + FPN on COCO instances, mmdet's multi-scale 3x schedule: RepeatDataset x3
# over 12 epochs (36 epochs), shorter side 640-800, 500-iteration linear warm-up, steps at epochs 9
# and 11 of 12, batch 16 (2 images x 8 GPUs); box and mask AP.
#
# FasterViT's detection setting (FasterViT paper: Cascade Mask R-CNN, 3x schedule, AdamW lr 1e-4,
# weight decay 0.05, batch 16 on 8 GPUs), completed with Swin's mmdet 3x configs: betas
# (0.9, 0.999), no weight decay on the normalization layers (matched by layer type) nor on the
# backbone's position terms (the fragment's custom_keys), mmdet's packaged heads and pipeline.
# HRFormer and PSViT publish no detection setting and use it too, so that the backbones compare
# directly. All four backbone levels (strides 4/8/16/32) feed the FPN, which adds stride 64.
# The backbone itself comes from a fragment in ../backbones/.
_base_ = ['mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_ms-3x_coco.py']

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

model = dict(backbone=dict(_delete_=True, out_indices=(0, 1, 2, 3)))
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SummarizedOptimWrapperConstructor',  # logs its parameter groups in brief
    optimizer=dict(
        _delete_=True, type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0))

# mmdet's `common/ms_3x_coco-instance.py` evaluates boxes only; add the mask AP.
val_evaluator = dict(metric=['bbox', 'segm'])
test_evaluator = val_evaluator

# The toolbox dataset with mmvitx's data checks (mmvitx/datasets/): every bad image, label map
# or annotation stops the run with one line naming it; skip_bad_samples=True (tools/train.py
# --skip-bad-samples) goes on without them.
train_dataloader = dict(dataset=dict(dataset=dict(type='CheckedCocoDataset')))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
