# MViTv2-T + FPN + Cascade Mask R-CNN, COCO, multi-scale + crop, 36 epochs, batch 16
# (8 GPUs x 2).
# Published (paper Table 5 / detectron2, IN-1k pre-training, batch 64; backbones.md §2.8):
# 52.2 box AP / 45.0 mask AP (AP50/AP75: 71.1/56.6 box, 68.3/48.9 mask);
# 76M parameters, 701G FLOPs.
# The recipe (detectron2's, on mmdet's ConvNeXt cascade) is explained in the base config.
_base_ = ['../_base_/mvit_cascade-mask-rcnn_fpn_ms-crop-3x_coco.py']

model = dict(
    backbone=dict(
        arch='t',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/mvitv2-t_in1k.pth')))
