# HRFormer (S by default) + OCR on ADE20K (150 classes): 512x512 crops, 160k iterations.
# HRFormer's own ADE20K runs used 520x520 crops, 150k iterations and batch 8 (backbones.md §5.6);
# mmseg's standard ADE20K 512x512/160k setting is used here so that the results are comparable
# with the other ADE20K models of mmseg, keeping HRFormer's batch 8 (2 images x 4 GPUs), OHEM and
# the AdamW + poly recipe of its segmentation runs (the paper gives no separate ADE20K optimizer
# settings).
_base_ = [
    './models/hrformer-s_ocr.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    './schedules/hrformer_seg-adamw-poly_160k.py',
]

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=[dict(head, num_classes=150) for head in _base_.model.decode_head])

train_dataloader = dict(batch_size=2)  # x 4 GPUs = 8
