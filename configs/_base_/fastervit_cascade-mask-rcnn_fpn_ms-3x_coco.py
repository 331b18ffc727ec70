# FasterViT (0 by default) + FPN + Cascade Mask R-CNN on COCO, mmdet's multi-scale 3x schedule
# (RepeatDataset x3 over 12 epochs = 36 epochs, shorter side 640-800, 500-iteration linear
# warm-up, steps at epochs 9 and 11 of 12), batch 16 (2 images x 8 GPUs).
#
# The paper's detection setting (backbones.md §4.5): Cascade Mask R-CNN, 3x schedule, AdamW
# lr 1e-4, weight decay 0.05, batch 16 on 8 GPUs; its detection code is unreleased. Where it is
# silent, this follows Swin's mmdet configs:
# - all four stages feed the FPN (out_indices 0-3, strides 4/8/16/32, each output through its own
#   new LayerNorm); FPN adds stride 64;
# - drop path: each size keeps the rate of its ImageNet pre-training (backbones.md §4.2: 0.2 for
#   FasterViT-0/2, 0.3 for -3/-4), within the range Swin uses in mmdet (0.2), mmseg (0.3) and
#   mmpose (T 0.2, B 0.3);
# - no weight decay on the normalization layers (BN, LN; matched by layer type) and on the
#   position terms, which Swin exempts as `relative_position_bias_table`/`absolute_pos_embed`.
#   FasterViT's position terms are MLPs: the SwinV2-style continuous position bias of every
#   attention (`cpb`; SwinV2 exempts its `cpb_mlp` too) and the positional MLPs over the window
#   and carrier-token grids (`window_pos`, `ct_pos`). The layer-scale factors of FasterViT-3/-4
#   (`ls1`, `ls2`, `ct_ls1`, `ct_ls2`) are exempt too, as ConvNeXt's are in mmdet (its
#   constructor exempts 1-D parameters): decay would pull whole residual branches towards zero;
# - SyncBN in the stem and the convolutional stages, trainable (norm_eval False), nothing frozen.
_base_ = ['mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_ms-3x_coco.py']

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

stage_channels = [64, 128, 256, 512]  # FasterViT-0; -2 96/192/384/768, -3 128/.., -4 196/..
model = dict(
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
    neck=dict(in_channels=stage_channels))

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
            '.cpb.': dict(decay_mult=0.0),
            '.window_pos.': dict(decay_mult=0.0),
            '.ct_pos.': dict(decay_mult=0.0),
            'ls1.weight': dict(decay_mult=0.0),
            'ls2.weight': dict(decay_mult=0.0),
        }))

# mmdet's `common/ms_3x_coco-instance.py` evaluates boxes only; add the mask AP.
val_evaluator = dict(metric=['bbox', 'segm'])
test_evaluator = val_evaluator
