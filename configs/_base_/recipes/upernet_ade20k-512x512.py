# UPerNet on ADE20K (150 classes), Swin's mmseg UPerNet recipe: 512x512 crops, 160k iterations,
# batch 16 (2 images x 8 GPUs), UPerHead over the four backbone levels (strides 4/8/16/32), an FCN
# auxiliary head (loss weight 0.4) on the stride-16 level, no OHEM, AdamW lr 6e-5 with weight decay
# 0.01, 1500-iteration linear warm-up then poly decay to 0 (../schedules/adamw-poly_160k.py at
# this lr). FasterViT's segmentation setting (FasterViT paper: UPerNet, AdamW lr 6e-5, weight decay
# 0.01, batch 16 on 8 GPUs; crop size and schedule not given) is this recipe; HRFormer (no UPerNet
# result), MViT and PSViT (no segmentation result) use it too, so that the backbones compare
# directly. A config sets the UPerHead's in_channels to its backbone's channels and the auxiliary
# head's to the stride-16 level's.
_base_ = ['mmseg::_base_/models/upernet_r50.py', 'mmseg::_base_/datasets/ade20k.py',
          'mmseg::_base_/default_runtime.py', '../schedules/adamw-poly_160k.py']

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(_delete_=True, out_indices=(0, 1, 2, 3)),
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150))

optim_wrapper = dict(optimizer=dict(lr=6e-5))

# The toolbox dataset with mmvitx's data checks (mmvitx/datasets/): every bad image, label map
# or annotation stops the run with one line naming it; skip_bad_samples=True (tools/train.py
# --skip-bad-samples) goes on without them.
train_dataloader = dict(batch_size=2, dataset=dict(type='CheckedADE20KDataset'))  # x 8 GPUs = 16
# test_mode (mmseg leaves it False): skip_bad_samples then leaves bad samples out, as the metric
# needs, instead of drawing others.
val_dataloader = dict(dataset=dict(type='CheckedADE20KDataset', test_mode=True))
test_dataloader = dict(dataset=dict(type='CheckedADE20KDataset', test_mode=True))
