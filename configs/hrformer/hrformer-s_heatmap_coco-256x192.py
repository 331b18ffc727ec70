# HRFormer-S top-down heatmap, COCO keypoints, 256x192, 210 epochs, batch 32 per GPU.
# Published (COCO val, person detections 56.4 AP): 74.0 AP (HRFormer), 73.8 (mmpose 1.x).
_base_ = ['../_base_/hrformer_heatmap_coco-256x192.py']

model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='checkpoints/hrformer-s_in1k.pth')),
    head=dict(in_channels=32))
