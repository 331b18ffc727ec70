# OCR on Cityscapes, HRFormer's recipe (HRFormer paper): 512x1024 crops, 80k iterations, batch 8
# (2 images x 4 GPUs), AdamW + poly (../schedules/adamw-poly_80k.py), the OCRNet model with OHEM of
# ../models/ocr_ohem.py. Data pipeline, evaluation (mIoU, whole-image inference at 1024x2048) and
# runtime are mmseg's packaged Cityscapes settings. FasterViT, MViT and PSViT publish no Cityscapes
# result and use it too: it is the only published transformer + OCR recipe on Cityscapes, and the
# backbones then compare directly.
_base_ = ['../models/ocr_ohem.py', 'mmseg::_base_/datasets/cityscapes.py',
          'mmseg::_base_/default_runtime.py', '../schedules/adamw-poly_80k.py']

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)

# The toolbox dataset with mmvitx's data checks (mmvitx/datasets/): every bad image, label map
# or annotation stops the run with one line naming it; skip_bad_samples=True (tools/train.py
# --skip-bad-samples) goes on without them.
train_dataloader = dict(batch_size=2, dataset=dict(type='CheckedCityscapesDataset'))  # x 4 GPUs = 8
# test_mode (mmseg leaves it False): skip_bad_samples then leaves bad samples out, as the metric
# needs, instead of drawing others.
val_dataloader = dict(dataset=dict(type='CheckedCityscapesDataset', test_mode=True))
test_dataloader = dict(dataset=dict(type='CheckedCityscapesDataset', test_mode=True))
