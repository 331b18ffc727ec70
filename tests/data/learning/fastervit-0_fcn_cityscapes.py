"""FasterViT-0 + a linear FCN head on the Cityscapes demo data, sized to learn in well under a
minute on a 2-core CPU (``tests/test_learning.py``).

The HRFormer-T learning config (mmseg's packaged HRNetV2 + FCN and Cityscapes configs, the same
data, pipelines and schedule) with mmvitx's FasterViT-0 as backbone (all four stages, strides 4-32, 64/128/256/512 channels). The head is as light as it gets: the four
outputs upsampled to stride 4 and concatenated (960 channels), then the 1x1 classifier (no hidden
conv), so what is learnt beyond a per-pixel linear map must come from the backbone.
Images at a quarter of the demo size (128x64, mild scale jitter, flip), 60 iterations of batch 4,
AdamW lr 1e-3 with a short warm-up and linear decay (lr 2e-3 learnt as well: mIoU 70.4 / 72.3 for
seeds 0 / 1 against 70.8 / 70.7), no pretrained weights, plain BN in the stem and the
convolutional stages, mIoU on the 8 val images. A step costs about 0.6 s on one thread, most of it
in the two transformer stages, whose maps are padded to whole 7x7 windows at this size.
The demo data root comes from ``$MMVITX_DEMO_DATA`` (default ``data/demo``, where
``tools/misc/generate_demo_data.py`` writes it).
"""
_base_ = ['./hrformer-t_fcn_cityscapes.py']

stage_channels = [64, 128, 256, 512]  # FasterViT-0
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.FasterViT',
        arch='0',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.0,
        norm_cfg=dict(type='BN', requires_grad=True),
        init_cfg=None),
    decode_head=dict(in_channels=stage_channels, channels=sum(stage_channels)))

# fused AdamW as in the base (one kernel for all ~370 parameter tensors); a lower lr
optim_wrapper = dict(optimizer=dict(lr=1e-3))
