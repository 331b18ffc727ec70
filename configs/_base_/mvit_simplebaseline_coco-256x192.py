# MViT (MViTv2-T by default), SimpleBaseline top-down heatmap pose estimation on COCO keypoints,
# 256x192 input (sigma 2). MViT publishes no pose result (backbones.md §2.8); as for FasterViT
# (`fastervit_simplebaseline_coco-256x192.py`, so that the backbones compare directly), everything
# but the backbone and the optimizer is mmpose's SimpleBaseline ResNet-50 recipe: data pipeline,
# codec, flip test, COCO evaluation (with the 56.4-AP person detections), 210 epochs with steps at
# 170 and 200, 500-iteration linear warm-up from 1e-3 x lr, 64 images per GPU on 8 GPUs
# (auto_scale_lr base 512), and the SimpleBaseline head: mmpose's HeatmapHead with its default
# three deconvolutions (256 channels, kernel 4, x8) on the stride-32 output only (out_indices (3,),
# through its new LayerNorm), giving the 1/4-resolution heatmaps.
#
# Optimizer: AdamW instead of the recipe's Adam, same lr 5e-4, weight decay 0.01 (the reasons are
# in the FasterViT base config: decoupled weight decay as in mmpose's HRFormer and ViTPose recipes,
# 0.01 as in the HRFormer one).
# - Attention: global in every block, the pretraining setting: at 256x192 stage 1 is a 64x48 map
#   (3k queries against 192 pooled keys), smaller than the 224 pretraining input.
# Drop path (the ImageNet rate of each size) and the no-decay parameters (normalization layers,
# position terms) are those of `mvit_upernet_ade20k-512x512.py`, where the reasons are given.
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py'
]

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.MViT',
        arch='t',
        out_indices=(3, ),  # stride 32: 768 channels (MViTv2-T/S/B and MViT v1-B-16)
        window_attention=False,
        drop_path_rate=0.1,
        frozen_stages=-1,
        norm_eval=False,
        with_cp=False,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/mvitv2-t_in1k.pth')),
    head=dict(in_channels=768))

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'rel_pos_h': dict(decay_mult=0.0),
            'rel_pos_w': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        }))
