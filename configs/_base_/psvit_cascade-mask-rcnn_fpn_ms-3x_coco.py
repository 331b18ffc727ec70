# PSViT (2-D design, Tiny by default) + FPN + Cascade Mask R-CNN on COCO, mmdet's multi-scale 3x
# schedule (RepeatDataset x3 over 12 epochs = 36 epochs, shorter side 640-800, 500-iteration linear
# warm-up, steps at epochs 9 and 11 of 12), batch 16 (2 images x 8 GPUs).
#
# The backbones are mmvitx's own PSViT instantiations (Tiny and Small at the budgets of DeiT-Tiny
# and DeiT-Small; README, "PSViT"), not the paper's searched models, which are unpublished
# (backbones.md §3.1). PSViT publishes no dense-prediction recipe either (the paper reports COCO
# detection without its settings), so this is the FasterViT recipe
# (`fastervit_cascade-mask-rcnn_fpn_ms-3x_coco.py`: FasterViT's setting completed with Swin's mmdet
# choices), so that the backbones compare directly: AdamW lr 1e-4, betas (0.9, 0.999), weight
# decay 0.05, mmdet's packaged heads and pipeline. What is PSViT's:
# - all four levels feed the FPN (out_indices 0-3, strides 4/8/16/32, each output through its own
#   new LayerNorm). PSViT's stages run at strides 8/16/32; the stride-4 level is stage 1's output
#   upsampled by a 2x2 stride-2 transposed convolution (ViTDet's simple-feature-pyramid step), so
#   levels 0 and 1 have the same width. FPN adds stride 64;
# - hybrid window attention, windows of 14x14 tokens (window_size=14; 112 pixels at stride 8,
#   224 at stride 16) in stages 1 and 2, global attention in stage 2's last basic layer, the layer
#   sharing its map and stage 3 (MViTv2/ViTDet's scheme). Needed at 800x1333: stage 1 is then a
#   100x167 map (16.7k tokens), and attention sharing materialises the attention maps (a sharing
#   layer reuses the map of the layer before it, so no memory-efficient SDPA kernel applies), so
#   global attention would keep a 16.7k x 16.7k map per head and layer for the backward pass
#   (1.1 GB per head in fp32, per image). 14 tokens is the window of ViTDet and of PSViT's own
#   stride-16 grid at the 224 pretraining size;
# - drop path 0.1 for both sizes, DeiT's rate (PSViT gives none);
# - no weight decay on the normalization layers (LN; matched by layer type) and on the position
#   terms `pos_embed` and `cls_token` (1-D design), as DeiT's and Swin's no-weight-decay lists and
#   the MViT configs; the backbone has no BatchNorm (mmdet's packaged heads neither), nothing is
#   frozen.
_base_ = ['mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_ms-3x_coco.py']

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

level_channels = [64, 64, 128, 256]  # PSViT-2D-T; -S 128/128/256/512
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmvitx.PSViT',
        arch='t',
        pooling='2d',
        out_indices=(0, 1, 2, 3),
        window_size=14,
        drop_path_rate=0.1,
        frozen_stages=-1,
        norm_eval=False,
        with_cp=False,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/psvit-2d-t_in1k.pth')),
    neck=dict(in_channels=level_channels))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        _delete_=True,
        type='AdamW',
        lr=1e-4,
        betas=(0.9, 0.999),
        weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        }))

# mmdet's `common/ms_3x_coco-instance.py` evaluates boxes only; add the mask AP.
val_evaluator = dict(metric=['bbox', 'segm'])
test_evaluator = val_evaluator
