# PSViT (2-D design, Tiny by default), SimpleBaseline top-down heatmap pose estimation on COCO
# keypoints, 256x192 input (sigma 2).
#
# The backbones are mmvitx's own PSViT instantiations (README, "PSViT"), not the paper's searched
# models, which are unpublished. PSViT publishes no dense-prediction recipe (backbones.md §3); as
# for FasterViT (`fastervit_simplebaseline_coco-256x192.py`, so that the backbones compare
# directly), everything but the backbone and the optimizer is mmpose's SimpleBaseline ResNet-50
# recipe: data pipeline, codec, flip test, COCO evaluation (with the 56.4-AP person detections),
# 210 epochs with steps at 170 and 200, 500-iteration linear warm-up from 1e-3 x lr, 64 images per
# GPU on 8 GPUs (auto_scale_lr base 512), and the SimpleBaseline head: mmpose's HeatmapHead with
# its default three deconvolutions (256 channels, kernel 4, x8) on the stride-32 output only
# (out_indices (3,), stage 3 through its new LayerNorm), giving the 1/4-resolution heatmaps.
#
# Optimizer: AdamW instead of the recipe's Adam, same lr 5e-4, weight decay 0.01 (the reasons are
# in the FasterViT base config: decoupled weight decay as in mmpose's HRFormer and ViTPose recipes,
# 0.01 as in the HRFormer one).
# - Attention: global in every layer (window_size None), the pretraining setting: at 256x192
#   stage 1 is a 32x24 map (768 tokens), smaller than the 28x28 of the 224 pretraining input.
# Drop path (0.1, DeiT's rate) and the no-decay parameters (normalization layers, `pos_embed`,
# `cls_token`) are those of `psvit_cascade-mask-rcnn_fpn_ms-3x_coco.py`, where the reasons are
# given.
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py'
]

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.PSViT',
        arch='t',
        pooling='2d',
        out_indices=(3, ),  # stride 32: 256 channels for PSViT-2D-T (-S: 512)
        window_size=None,
        drop_path_rate=0.1,
        frozen_stages=-1,
        norm_eval=False,
        with_cp=False,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/psvit-2d-t_in1k.pth')),
    head=dict(in_channels=256))

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        }))
