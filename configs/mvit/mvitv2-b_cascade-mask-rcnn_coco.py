# MViTv2-B + FPN + Cascade Mask R-CNN, COCO, multi-scale + crop, 36 epochs, batch 16
# (8 GPUs x 2).
# Published (paper Table 5 / detectron2, IN-1k pre-training, batch 64; backbones.md §2.8):
# 54.1 box AP / 46.8 mask AP (AP50/AP75: 72.9/58.5 box, 70.6/50.8 mask);
# 103M parameters, 814G FLOPs.
# The recipe (detectron2's, on mmdet's ConvNeXt cascade) is explained in the base config.
_base_ = ['../_base_/mvit_cascade-mask-rcnn_fpn_ms-crop-3x_coco.py']

model = dict(
    backbone=dict(
        arch='b',
        drop_path_rate=0.4,
        init_cfg=dict(checkpoint='checkpoints/mvitv2-b_in1k.pth')))
