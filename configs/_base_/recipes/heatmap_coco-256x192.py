# Top-down heatmap pose estimation on COCO keypoints, 256x192 input (sigma 2), HRFormer's official
# recipe as packaged by mmpose (its HRFormer config): data pipeline, codec, flip test, COCO
# evaluation with the 56.4-AP person detections, AdamW lr 5e-4, betas (0.9, 0.999), weight decay
# 0.01 (no decay on the backbone's custom_keys, which replace mmpose's), 210 epochs with steps at
# 170 and 200, 500-iteration linear warm-up from 1e-3 x lr, 32 images per GPU (auto_scale_lr base
# 256 = 8 GPUs x 32). The head is HRNet-style: a 1x1 convolution (mmpose's HeatmapHead without
# deconvolutions) on the stride-4 output alone (out_indices (0,): HRFormer's last module then fuses
# into its highest-resolution branch only); a config sets its in_channels.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_hrformer-small_8xb32-210e_coco-256x192.py']

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

model = dict(backbone=dict(_delete_=True, out_indices=(0, )))
optim_wrapper = dict(
    constructor='SummarizedOptimWrapperConstructor',  # logs its parameter groups in brief
    paramwise_cfg=dict(custom_keys=dict(_delete_=True)))

# The toolbox dataset with mmvitx's data checks (mmvitx/datasets/): every bad image, label map
# or annotation stops the run with one line naming it; skip_bad_samples=True (tools/train.py
# --skip-bad-samples) goes on without them.
train_dataloader = dict(dataset=dict(type='CheckedCocoPoseDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoPoseDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoPoseDataset'))
