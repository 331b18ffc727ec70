# MViT (MViTv2-T by default) + UPerNet on ADE20K (150 classes): 512x512 crops, 160k iterations,
# batch 16 (2 images x 8 GPUs).
#
# MViT publishes no segmentation result (backbones.md §2.8), so this is Swin's mmseg UPerNet recipe,
# as for FasterViT (`fastervit_upernet_ade20k-512x512.py`, so that the backbones compare directly):
# mmseg's standard ADE20K 512x512/160k setting, UPerHead over the four stages (strides 4/8/16/32,
# each output through its own new LayerNorm), an FCN auxiliary head (weight 0.4) on the stride-16
# stage, AdamW lr 6e-5, weight decay 0.01, 1500-iteration linear warm-up then poly decay to 0 (the
# shared schedule `hrformer_seg-adamw-poly_160k.py`, whose lr and HRFormer no-decay key are
# replaced here). The heads keep mmseg's SyncBN; MViT has no BatchNorm.
# - Attention: global in every block, the pretraining setting (no hybrid window attention): at a
#   512x512 crop stage 1 attends 16k queries to 1k pooled keys, which fits without windows.
# - Drop path: each size keeps the rate of its ImageNet pre-training (spec §2.2/§2.4: MViTv2-T/S
#   and MViT v1-B-16 0.1). No MViT segmentation or pose value is published; detectron2's
#   detection configs raise it (T/S 0.2, B 0.4) for the longer, larger-input detection schedule.
# - No weight decay on the normalization layers (LN; matched by layer type) and on the position
#   terms `pos_embed`, `rel_pos_h`, `rel_pos_w` and v1's `cls_token`, as in MViTv2's detection
#   recipe (spec §2.9; see `mvit_cascade-mask-rcnn_fpn_ms-crop-3x_coco.py`).
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    './schedules/hrformer_seg-adamw-poly_160k.py',
]

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
stage_channels = [96, 192, 384, 768]  # MViTv2-T/S/B; MViT v1-B-16 192/384/768/768
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmvitx.MViT',
        arch='t',
        out_indices=(0, 1, 2, 3),
        window_attention=False,
        drop_path_rate=0.1,
        frozen_stages=-1,
        norm_eval=False,
        with_cp=False,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/mvitv2-t_in1k.pth')),
    decode_head=dict(in_channels=stage_channels, num_classes=150),
    auxiliary_head=dict(in_channels=stage_channels[2], num_classes=150))

optim_wrapper = dict(
    optimizer=dict(lr=6e-5),
    paramwise_cfg=dict(
        custom_keys={
            '_delete_': True,
            'pos_embed': dict(decay_mult=0.0),
            'rel_pos_h': dict(decay_mult=0.0),
            'rel_pos_w': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        }))

train_dataloader = dict(batch_size=2)  # x 8 GPUs = 16
