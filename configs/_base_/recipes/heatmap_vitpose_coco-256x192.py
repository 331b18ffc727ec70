# Top-down heatmap pose estimation on COCO keypoints, 256x192 input, ViTPose's recipe (Xu et al.,
# "ViTPose: Simple Vision Transformer Baselines for Human Pose Estimation", NeurIPS 2022) as
# packaged by mmpose (`td-hm_ViTPose-base_8xb64-210e_coco-256x192.py`): UDP heatmaps (sigma 2) and
# affine transforms, flip test, COCO evaluation with the 56.4-AP person detections; the classic
# decoder head (two 4x4 deconvolutions of 256 channels with BN and ReLU, then a 1x1 convolution)
# on the backbone's stride-16 map, giving 1/4-resolution heatmaps (a config sets its
# in_channels); AdamW lr 5e-4, betas (0.9, 0.999), weight decay 0.1, gradients clipped to norm
# 1, layer-wise lr decay 0.75 (ViTPose-B's; the patch embedding layer 0, block i layer i + 1, the
# head num_layers + 1); 210 epochs with steps at 170 and 200, 500-iteration linear warm-up from
# 1e-3 x lr; 64 images per GPU (auto_scale_lr base 512 = 8 GPUs x 64).
# Weight decay exemptions as ViTPose's constructor effectively makes them (every 1-D parameter
# and the position table): the normalization layers (by layer type) and biases through
# `norm_decay_mult` and `bias_decay_mult`, the backbone's position terms and tokens through the
# fragment's custom_keys. ViTPose's patch convolution pads by 2 pixels, which shifts its patch
# grid by 2 pixels against MAE's pre-training; here the patch grid is the pre-training one.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_ViTPose-base_8xb64-210e_coco-256x192.py']

# replaces the base's import of mmpose's own layer-decay constructor
custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

model = dict(backbone=dict(_delete_=True))
optim_wrapper = dict(
    constructor='LayerwiseLRDecayOptimWrapperConstructor',  # logs its parameter groups in brief
    paramwise_cfg=dict(
        _delete_=True, layer_decay_rate=0.75, norm_decay_mult=0.0, bias_decay_mult=0.0))

# The toolbox dataset with mmvitx's data checks (mmvitx/datasets/): every bad image, label map
# or annotation stops the run with one line naming it; skip_bad_samples=True (tools/train.py
# --skip-bad-samples) goes on without them.
train_dataloader = dict(dataset=dict(type='CheckedCocoPoseDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoPoseDataset'))
test_dataloader = dict(dataset=dict(type='CheckedCocoPoseDataset'))
