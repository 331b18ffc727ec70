# MViTv2-S SimpleBaseline (3 deconvolutions on the stride-32 stage), COCO keypoints, 256x192,
# 210 epochs, batch 64 per GPU. No published MViT pose result; the recipe (mmpose's SimpleBaseline
# recipe with AdamW) is explained in the base config.
_base_ = ['../_base_/mvit_simplebaseline_coco-256x192.py']

model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/mvitv2-s_in1k.pth')))
