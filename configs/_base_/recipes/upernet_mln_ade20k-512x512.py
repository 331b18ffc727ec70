# UPerNet on a plain backbone with mmseg's MultiLevelNeck, ADE20K (150 classes), mmseg's ViT/DeiT
# recipe (mmseg configs/vit/, `vit_deit-b16_mln_upernet_8xb2-160k_ade20k-512x512.py`): 512x512
# crops, 160k iterations, batch 16 (2 images x 8 GPUs). MultiLevelNeck turns four stride-16 block
# outputs into strides 4/8/16/32 (bilinear x4, x2, x1, x0.5, each then a 3x3 convolution, at the
# backbone's width); UPerHead reads all four, the FCN auxiliary head (loss weight 0.4) the stride-32
# one; AdamW lr 6e-5, weight decay 0.01, none on the normalization layers (by layer type) nor on the
# backbone's position terms and tokens (the fragment's custom_keys), 1500-iteration linear warm-up
# then poly decay to 0 (../schedules/adamw-poly_160k.py at this lr). A config sets the neck's
# channels and the heads' to its backbone's width.
_base_ = ['mmseg::_base_/models/upernet_vit-b16_ln_mln.py', 'mmseg::_base_/datasets/ade20k.py',
          'mmseg::_base_/default_runtime.py', '../schedules/adamw-poly_160k.py']

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(_delete_=True),
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
