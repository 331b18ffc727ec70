# HRFormer-B top-down heatmap, COCO keypoints, 384x288, 210 epochs. Published (COCO val, person
# detections 56.4 AP): 77.2 AP (HRFormer), 77.4 (mmpose 1.x). As in HRFormer's official config: drop
# path 0.3 (mmpose 1.x uses 0.2) and 8 images per GPU (mmpose 1.x uses 32); the learning rate stays
# 5e-4, so auto_scale_lr's reference batch is 8 GPUs x 8 = 64 (the official GPU count is not
# stated).
_base_ = ['../_base_/recipes/heatmap_coco-384x288.py', '../_base_/backbones/hrformer-b.py']

model = dict(backbone=dict(_base_.backbone_pose, drop_path_rate=0.3),
             head=dict(in_channels=_base_.backbone_channels[0]))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=_base_.backbone_no_decay))

train_dataloader = dict(batch_size=8)
auto_scale_lr = dict(base_batch_size=64)
