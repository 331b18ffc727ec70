"""PSViT-2D-T SimpleBaseline pose estimation on the COCO-keypoints demo data, sized to learn in
about a minute on a 2-core CPU (``tests/test_learning.py``).

The MViTv2-T pose learning config (the FasterViT-0 one: 128x96 input, three 128-channel
deconvolutions on the stride-32 output, the HRFormer-T test's data, augmentation, PCK@0.1 and
schedule; with a 20-iteration warm-up and the backbone at 0.2x the lr) with mmvitx's PSViT-2D-T as
backbone (stride-32 output, 256 channels, BN as the output norm), no pretrained weights. At the
full lr with a 5-iteration warm-up one of two seeds fell below the frozen-backbone control (PCK
0.676 / 0.489, frozen 0.504).
The demo data root comes from ``$MMVITX_DEMO_DATA`` (default ``data/demo``, where
``tools/misc/generate_demo_data.py`` writes it).
"""
_base_ = ['./mvitv2-t_simplebaseline_coco.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.PSViT',
        arch='t',
        pooling='2d',
        out_indices=(3, ),
        drop_path_rate=0.0,
        out_norm_cfg=dict(type='BN'),
        init_cfg=None),
    head=dict(in_channels=256))
