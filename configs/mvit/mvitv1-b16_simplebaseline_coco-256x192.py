# MViT v1-B-16 SimpleBaseline (3 deconvolutions on the stride-32 stage), COCO keypoints, 256x192,
# 210 epochs, batch 64 per GPU. No published MViT pose result; the recipe (mmpose's SimpleBaseline
# recipe with AdamW) is explained in the base config.
_base_ = ['../_base_/mvit_simplebaseline_coco-256x192.py']

model = dict(
    backbone=dict(
        arch='v1-b-16',
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/mvitv1-b16_in1k.pth')))  # stride 32: 768 channels
