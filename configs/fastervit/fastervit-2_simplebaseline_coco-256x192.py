# FasterViT-2 SimpleBaseline (3 deconvolutions on the stride-32 stage), COCO keypoints, 256x192,
# 210 epochs, batch 64 per GPU. No published FasterViT pose result; the recipe (mmpose's
# SimpleBaseline recipe with AdamW) is explained in the base config.
_base_ = ['../_base_/fastervit_simplebaseline_coco-256x192.py']

model = dict(
    backbone=dict(
        arch='2',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/fastervit-2_in1k.pth')),
    head=dict(in_channels=768))
