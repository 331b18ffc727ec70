# HRFormer's segmentation model (HRFormer paper): mmseg's OCRNet, an FCN auxiliary head (loss weight
# 0.4) then the OCR head, both over all four backbone levels resized to 1/4 and concatenated
# (`resize_concat`), with OHEM (thresh 0.9, min_kept 100000) on both heads as in the
# mmsegmentation HRFormer pull request. The heads are those of mmseg's HRNet-W18 OCRNet; a config
# sets both heads' in_channels to its backbone's channels and the FCN head's width to their sum.
_base_ = ['mmseg::_base_/models/ocrnet_hr18.py']

model = dict(
    pretrained=None,
    backbone=dict(_delete_=True, out_indices=(0, 1, 2, 3)),
    decode_head=[
        dict(head, sampler=dict(type='OHEMPixelSampler', thresh=0.9, min_kept=100000))
        for head in _base_.model.decode_head
    ])
