# HRFormer (S by default) + UPerNet on ADE20K (150 classes): 512x512 crops, 160k iterations.
# HRFormer publishes no UPerNet result (backbones.md §5.6). Where the paper is silent, this follows
# mmseg's Swin UPerNet ADE20K recipe: UPerHead over the four branches (strides 4/8/16/32 like Swin's
# stages), an FCN auxiliary head (weight 0.4) on the stride-16 branch, batch 16 (2 images x 8
# GPUs), AdamW lr 6e-5 with weight decay 0.01 (no decay for the relative position bias tables and
# normalization layers), 1500-iteration linear warm-up then poly decay to 0. No OHEM (UPerNet's
# standard recipe has none). The drop-path rates are HRFormer's segmentation ones (S 0.2, B 0.4).
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    './schedules/hrformer_seg-adamw-poly_160k.py',
]

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
norm_cfg = dict(type='SyncBN', requires_grad=True)
branch_channels = [32, 64, 128, 256]  # HRFormer-S; T 18/36/72/144, B 78/156/312/624
model = dict(
    data_preprocessor=data_preprocessor,
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
    decode_head=dict(in_channels=branch_channels, num_classes=150),
    auxiliary_head=dict(in_channels=branch_channels[2], num_classes=150))

optim_wrapper = dict(optimizer=dict(lr=6e-5))

train_dataloader = dict(batch_size=2)  # x 8 GPUs = 16
