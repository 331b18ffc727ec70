# HRFormer (S by default) + OCR on Cityscapes: 512x1024 crops, 80k iterations, 2 images per GPU on
# 4 GPUs (batch 8), AdamW + poly (backbones.md §5.6). Data pipeline, evaluation (mIoU, whole-image
# inference at 1024x2048) and runtime are mmseg's packaged Cityscapes settings.
_base_ = [
    './models/hrformer-s_ocr.py',
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    './schedules/hrformer_seg-adamw-poly_80k.py',
]

crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)

train_dataloader = dict(batch_size=2)  # x 4 GPUs = 8, as in HRFormer's Cityscapes runs
