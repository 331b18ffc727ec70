# heatmap_coco-256x192.py at 384x288 input (sigma 3): mmpose's packaged HRFormer 384x288 config,
# HRFormer's official recipe at that input, with the same head and optimizer.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_hrformer-small_8xb32-210e_coco-384x288.py']

custom_imports = dict(imports=['mmvitx'], allow_failed_imports=False)

model = dict(backbone=dict(_delete_=True, out_indices=(0, )))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(_delete_=True)))
