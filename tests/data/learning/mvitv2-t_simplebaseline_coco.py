"""MViTv2-T SimpleBaseline pose estimation on the COCO-keypoints demo data, sized to learn in about
a minute on a 2-core CPU (``tests/test_learning.py``).

The FasterViT-0 pose learning config (128x96 input, three 128-channel deconvolutions on the
stride-32 output, the HRFormer-T test's data, augmentation, PCK@0.1 and schedule) with mmvitx's
MViTv2-T as backbone (stride-32 output, 768 channels, global pooling attention, BN as the output
norm), no pretrained weights. The backbone trains at 0.2x the lr (AdamW 1e-3, 20-iteration warm-up):
at the full lr the from-scratch MViT fell behind its frozen-backbone control (PCK 0.39-0.53 at lr
5e-4 to 1e-3 against 0.45-0.52 frozen; its training loss ended above the frozen run's).
The demo data root comes from ``$MMVITX_DEMO_DATA`` (default ``data/demo``, where
``tools/misc/generate_demo_data.py`` writes it).
"""
_base_ = ['./fastervit-0_simplebaseline_coco.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.MViT',
        arch='t',
        out_indices=(3, ),
        drop_path_rate=0.0,
        out_norm_cfg=dict(type='BN'),
        init_cfg=None),
    head=dict(in_channels=768))

optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.2)}))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=20, start_factor=0.1, by_epoch=False),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=20, end=120),
]
