# SimpleBaseline top-down heatmap pose estimation on COCO keypoints, 256x192 input (sigma 2).
# FasterViT, MViT and PSViT publish no pose result. Everything but the backbone and the optimizer
# is mmpose's SimpleBaseline ResNet-50 recipe: data pipeline, codec, flip test, COCO evaluation
# with the 56.4-AP person detections, 210 epochs with steps at 170 and 200, 500-iteration linear
# warm-up from 1e-3 x lr, 64 images per GPU on 8 GPUs (auto_scale_lr base 512), and the
# SimpleBaseline head: mmpose's HeatmapHead with its default three deconvolutions (256 channels,
# kernel 4, x8) on the stride-32 output alone (out_indices (3,)), giving 1/4-resolution heatmaps;
# a config sets its in_channels.
#
# Optimizer: AdamW instead of the recipe's Adam, at the same lr 5e-4. Adam's weight decay is an L2
# term scaled by the adaptive step, so the recipe runs without any; transformer backbones are
# fine-tuned with decoupled weight decay in mmpose's HRFormer (0.01) and ViTPose (0.1) recipes and
# in FasterViT's own detection and segmentation settings. Weight decay 0.01 as in the HRFormer
# recipe, the closest one (a hierarchical transformer at the same lr and schedule), without decay
# on the normalization layers (by layer type) and the backbone's custom_keys.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py']

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

model = dict(backbone=dict(_delete_=True, out_indices=(3, )))
optim_wrapper = dict(
    constructor='SummarizedOptimWrapperConstructor',  # logs its parameter groups in brief
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(norm_decay_mult=0.0))

# The toolbox dataset with mmvitx's data checks (mmvitx/datasets/): every bad image, label map
# or annotation stops the run with one line naming it; skip_bad_samples=True (tools/train.py
# --skip-bad-samples) goes on without them.
train_dataloader = dict(dataset=dict(type='CheckedCocoPoseDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoPoseDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoPoseDataset'))
