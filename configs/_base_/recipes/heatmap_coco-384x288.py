# heatmap_coco-256x192.py at 384x288 input (sigma 3): mmpose's packaged HRFormer 384x288 config,
# HRFormer's official recipe at that input, with the same head and optimizer.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_hrformer-small_8xb32-210e_coco-384x288.py']

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
