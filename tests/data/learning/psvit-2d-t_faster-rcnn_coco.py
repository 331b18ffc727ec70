"""PSViT-2D-T + FPN + Faster R-CNN on the COCO-instances demo data, sized to learn in about a
minute on a 2-core CPU (``tests/test_learning.py``).

The HRFormer-T learning config (mmdet's packaged Faster R-CNN (FPN) and COCO detection configs
with a 64-channel FPN and thin heads, the same data, pipelines and schedule) with mmvitx's
PSViT-2D-T as backbone (all four levels, strides 4-32, 64/64/128/256 channels), no pretrained
weights, hybrid window attention as in the shipped detection configs (7-token windows here, so that
the 20x15-token stage-1 map of these small images still spans several windows), and BN as the
output norm, as in the FasterViT-0 detection learning config, where the reason is given. 120
iterations at AdamW lr 1e-3 with a 20-iteration warm-up, as for MViTv2-T: at the base's 60
iterations (lr 2e-3, warm-up 5) the trained run (bbox mAP 0.22; 0.27 with the backbone's lr scaled
by 0.1) stayed below the frozen-backbone control (0.29).
The demo data root comes from ``$MMVITX_DEMO_DATA`` (default ``data/demo``, where
``tools/misc/generate_demo_data.py`` writes it).
"""
_base_ = ['./hrformer-t_faster-rcnn_coco.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.PSViT',
        arch='t',
        pooling='2d',
        out_indices=(0, 1, 2, 3),
        window_size=7,
        drop_path_rate=0.0,
        out_norm_cfg=dict(type='BN'),
        init_cfg=None),
    neck=dict(in_channels=[64, 64, 128, 256]))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
max_iters = 120
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=20, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
