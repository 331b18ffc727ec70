"""MViTv2-T + a linear FCN head on the Cityscapes demo data, sized to learn in about a minute on a
2-core CPU (``tests/test_learning.py``).

The HRFormer-T learning config (mmseg's packaged HRNetV2 + FCN and Cityscapes configs, the same
data, pipelines and schedule) with mmvitx's MViTv2-T as backbone (all four stages, strides 4-32,
96/192/384/768 channels, global pooling attention, LayerNorm outputs) and the FasterViT-0 test's
light head: the four outputs upsampled to stride 4 and concatenated (1440 channels), then the 1x1
classifier. 128x64 images (token maps 32x16 down to 4x2), 120 iterations of batch 4 (at 60, MViTv2-T
from scratch reached 58-69 mIoU, too close to the frozen control's 55), AdamW lr 1e-3, no
pretrained weights.
The demo data root comes from ``$MMVITX_DEMO_DATA`` (default ``data/demo``, where
``tools/misc/generate_demo_data.py`` writes it).
"""
_base_ = ['./hrformer-t_fcn_cityscapes.py']

stage_channels = [96, 192, 384, 768]  # MViTv2-T
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.MViT',
        arch='t',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.0,
        init_cfg=None),
    decode_head=dict(in_channels=stage_channels, channels=sum(stage_channels)))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
max_iters = 120
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=5, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
