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

train_dataloader = dict(batch_size=2)  # x 4 GPUs = 8
