# HRFormer (S by default), top-down heatmap pose estimation on COCO keypoints, 384x288 input
# (sigma 3). Data pipeline, codec, flip test, COCO evaluation (with the 56.4-AP person detections)
# and the training recipe are mmpose's packaged HRFormer config, which matches HRFormer's
# official recipe (backbones.md §5.5): AdamW lr 5e-4, betas (0.9, 0.999), weight decay 0.01 with
# decay_mult 0 for the relative position bias tables, 210 epochs with steps at 170 and 200,
# 500-iteration linear warm-up from 1e-3 x lr, 32 images per GPU (auto_scale_lr base 256 =
# 8 GPUs x 32).
# Only the backbone is replaced by mmvitx's HRFormer; the head is HRNet-style: a 1x1 conv
# (HeatmapHead without deconvolutions) on the highest-resolution branch at 1/4 resolution.
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_hrformer-small_8xb32-210e_coco-384x288.py'
]

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        # scope-qualified: mmpose's own `HRFormer` would be picked otherwise
        type='mmvitx.HRFormer',
        arch='s',
        # only branch 0 (stride 4): the last module then fuses into that branch only
        out_indices=(0, ),
        drop_path_rate=0.1,
        frozen_stages=-1,
        norm_eval=False,
        with_cp=False,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/hrformer-s_in1k.pth')),
    head=dict(in_channels=32, out_channels=17, deconv_out_channels=None))
