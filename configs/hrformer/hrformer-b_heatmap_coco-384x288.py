# HRFormer-B top-down heatmap, COCO keypoints, 384x288 (sigma 3), 210 epochs.
# Published (COCO val, person detections 56.4 AP): 77.2 AP (HRFormer), 77.4 (mmpose 1.x).
# As in HRFormer's official config: drop path 0.3 (mmpose 1.x uses 0.2) and 8 images per GPU
# (mmpose 1.x uses 32); the learning rate stays 5e-4, so auto_scale_lr's reference batch is
# 8 GPUs x 8 = 64 (the official GPU count is not stated).
_base_ = ['../_base_/hrformer_heatmap_coco-384x288.py']

model = dict(
    backbone=dict(
        arch='b',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/hrformer-b_in1k.pth')),
    head=dict(in_channels=78))

train_dataloader = dict(batch_size=8)
auto_scale_lr = dict(base_batch_size=64)
