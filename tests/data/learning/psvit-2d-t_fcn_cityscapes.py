"""PSViT-2D-T + a linear FCN head on the Cityscapes demo data, sized to learn in about a minute on
a 2-core CPU (``tests/test_learning.py``).

The HRFormer-T learning config (mmseg's packaged HRNetV2 + FCN and Cityscapes configs, the same
data, pipelines and schedule) with mmvitx's PSViT-2D-T as backbone (all four levels, strides 4-32,
64/64/128/256 channels, the stride-4 level upsampled from stage 1), no pretrained weights. The head
is the light one of the other backbones' tests: the four outputs upsampled to stride 4 and
concatenated (512 channels), then the 1x1 classifier. 120 iterations at AdamW lr 1e-3 with a
20-iteration warm-up: the 20-layer transformer learns slowly from scratch (at the base's 60
iterations with a 5-iteration warm-up: mIoU 56.3 against 53.6 for the frozen-backbone control;
with the backbone's lr scaled by 0.2, 54.8).
The demo data root comes from ``$MMVITX_DEMO_DATA`` (default ``data/demo``, where
``tools/misc/generate_demo_data.py`` writes it).
"""
_base_ = ['./hrformer-t_fcn_cityscapes.py']

level_channels = [64, 64, 128, 256]  # PSViT-2D-T
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.PSViT',
        arch='t',
        pooling='2d',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.0,
        init_cfg=None),
    decode_head=dict(in_channels=level_channels, channels=sum(level_channels)))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
max_iters = 120
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=20, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
