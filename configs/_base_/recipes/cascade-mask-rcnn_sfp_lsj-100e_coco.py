# Cascade Mask R-CNN on a plain backbone with ViTDet's simple feature pyramid, COCO instances, with
# ViTDet's recipe (Li et al., "Exploring Plain Vision Transformer Backbones for Object Detection",
# ECCV 2022; detectron2 projects/ViTDet COCO cascade configs); box and mask AP.
# - Data: large-scale jitter at 1024 (mmdet's LSJ: resize to 0.1-2.0 x 1024, a crop of at most
#   1024x1024, flip); at test the longer side resized to 1024. Every image is then zero-padded to
#   1024x1024 after normalisation, as detectron2's square padding: the data preprocessor pads to a
#   multiple of 1024 (the predictions keep the image's own size for clipping and rescaling).
# - Model: mmdet's Cascade Mask R-CNN with ViTDet's heads: the SimpleFeaturePyramid neck (strides
#   4-32 from the backbone's last map, a max-pooled stride 64, channel LayerNorms), an RPN head
#   with two convolutions, three class-agnostic box heads of 4 convolutions + 1 fc and a 4-conv
#   mask head, their convolutions each followed by a channel LayerNorm (LN2d).
# - Optimizer: AdamW lr 1e-4, betas (0.9, 0.999), weight decay 0.1, none on the normalization
#   layers (by layer type) nor on the backbone's position terms (the fragment's custom_keys;
#   detectron2 decays its relative-position tables), layer-wise lr decay 0.7 (ViTDet-B's: lr x
#   0.7^(13 - layer), the patch embedding layer 0, block i layer i + 1, neck and heads 13). For
#   ViTDet's mixed precision, train with `tools/train.py --amp`.
# - Schedule: 100 epochs at batch 64 (2 images x 32 GPUs; auto_scale_lr base 64), mmdet's LSJ
#   100e: RepeatDataset x4 over 25 epochs, steps at epochs 22 and 24 (detectron2: iterations
#   163,889 and 177,546 of 184,375, epochs 88.9 and 96.3), a 250-iteration linear warm-up from
#   1e-3 x lr.
# Left out: the fp16 compression of DDP's gradients (a communication saving, no effect on the
# result).
_base_ = ['mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py',
          'mmdet::common/lsj-100e_coco-instance.py']

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

norm_cfg = dict(type='LN2d', eps=1e-6)
model = dict(
    data_preprocessor=dict(pad_size_divisor=1024),
    backbone=dict(_delete_=True),
    neck=dict(_delete_=True, type='SimpleFeaturePyramid', out_channels=256, num_outs=5,
              norm_cfg=norm_cfg),
    rpn_head=dict(num_convs=2),
    roi_head=dict(
        bbox_head=[
            dict(head, type='Shared4Conv1FCBBoxHead', conv_out_channels=256, norm_cfg=norm_cfg)
            for head in _base_.model.roi_head.bbox_head],
        mask_head=dict(norm_cfg=norm_cfg)))

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 1024), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='LayerwiseLRDecayOptimWrapperConstructor',  # logs its parameter groups in brief
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    paramwise_cfg=dict(layer_decay_rate=0.7, norm_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=250),
    _base_.param_scheduler[1],
]

# The toolbox dataset with mmvitx's data checks (mmvitx/datasets/): every bad image, label map
# or annotation stops the run with one line naming it; skip_bad_samples=True (tools/train.py
# --skip-bad-samples) goes on without them.
train_dataloader = dict(dataset=dict(dataset=dict(type='CheckedCocoDataset')))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset', pipeline=test_pipeline))
test_dataloader = val_dataloader
