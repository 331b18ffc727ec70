# HRFormer-B top-down heatmap, COCO keypoints, 256x192, 210 epochs, batch 32 per GPU.
# Published (COCO val, person detections 56.4 AP): 75.6 AP (HRFormer), 75.4 (mmpose 1.x).
_base_ = ['../_base_/hrformer_heatmap_coco-256x192.py']

model = dict(
    backbone=dict(
        arch='b',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/hrformer-b_in1k.pth')),
    head=dict(in_channels=78))
