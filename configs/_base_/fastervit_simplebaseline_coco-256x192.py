# FasterViT (0 by default), SimpleBaseline top-down heatmap pose estimation on COCO keypoints,
# 256x192 input (sigma 2). FasterViT publishes no pose result (backbones.md §4.5); everything but
# the backbone and the optimizer is mmpose's SimpleBaseline ResNet-50 recipe: data pipeline, codec,
# flip test, COCO evaluation (with the 56.4-AP person detections), 210 epochs with steps at 170
# and 200, 500-iteration linear warm-up from 1e-3 x lr, 64 images per GPU on 8 GPUs
# (auto_scale_lr base 512), and the SimpleBaseline head: mmpose's HeatmapHead with its default
# three deconvolutions (256 channels, kernel 4, x8) on the stride-32 output only (out_indices (3,)),
# giving the 1/4-resolution heatmaps.
#
# Optimizer: AdamW instead of the recipe's Adam, same lr 5e-4. Adam's weight decay is an L2 term
# scaled by the adaptive step, so the recipe runs without any; transformer backbones are fine-tuned
# with decoupled weight decay (AdamW) in mmpose's HRFormer (0.01) and ViTPose (0.1) recipes and in
# FasterViT's own detection and segmentation settings. Weight decay 0.01 as in mmpose's HRFormer
# recipe, the closest one (a hierarchical transformer trained at the same lr and schedule).
# Drop path, the no-decay parameters (normalization layers, position MLPs, layer scales) and the
# SyncBN of the stem and convolutional stages are those of
# `fastervit_cascade-mask-rcnn_fpn_ms-3x_coco.py`, where the reasons are given.
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py'
]

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.FasterViT',
        arch='0',
        out_indices=(3, ),  # stride 32: 512 channels for FasterViT-0 (-2: 768)
        drop_path_rate=0.2,
        frozen_stages=-1,
        norm_eval=False,
        with_cp=False,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/fastervit-0_in1k.pth')),
    head=dict(in_channels=512))

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys={
            '.cpb.': dict(decay_mult=0.0),
            '.window_pos.': dict(decay_mult=0.0),
            '.ct_pos.': dict(decay_mult=0.0),
            'ls1.weight': dict(decay_mult=0.0),
            'ls2.weight': dict(decay_mult=0.0),
        }))
