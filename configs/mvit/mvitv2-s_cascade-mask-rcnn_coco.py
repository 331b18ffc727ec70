# MViTv2-S + FPN + Cascade Mask R-CNN, COCO, multi-scale + crop, 36 epochs, batch 16
# (8 GPUs x 2).
# Published (paper Table 5 / detectron2, IN-1k pre-training, batch 64; backbones.md §2.8):
# 53.2 box AP / 46.0 mask AP (AP50/AP75: 72.4/58.0 box, 69.6/50.1 mask);
# 87M parameters, 748G FLOPs.
# The recipe (detectron2's, on mmdet's ConvNeXt cascade) is explained in the base config.
_base_ = ['../_base_/mvit_cascade-mask-rcnn_fpn_ms-crop-3x_coco.py']

model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/mvitv2-s_in1k.pth')))
