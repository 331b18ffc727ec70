# PSViT-2D-S SimpleBaseline (3 deconvolutions on the stride-32 stage), COCO keypoints, 256x192,
# 210 epochs, batch 64 per GPU. mmvitx's own PSViT instantiation (the paper's searched models are
# unpublished), so no published result; the recipe (mmpose's SimpleBaseline recipe with AdamW, as
# for FasterViT) is explained in the base config.
_base_ = ['../_base_/psvit_simplebaseline_coco-256x192.py']

model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/psvit-2d-s_in1k.pth')),
    head=dict(in_channels=512))  # stride 32
