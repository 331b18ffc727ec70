# HRFormer (Yuan et al., "HRFormer: High-Resolution Transformer for Dense Prediction", NeurIPS
# 2021): what every size shares. hrformer-{t,s,b}.py add the arch, the drop path and the checkpoint.
#
# - BatchNorm (stem, stage 1, transitions, fusion layers, the depth-wise convolution of the FFNs)
#   is synchronised across GPUs and trained (norm_eval False), nothing is frozen: HRFormer's own
#   segmentation and pose runs train it that way.
# - No weight decay on the relative position bias tables, as in HRFormer's official configs (the
#   recipes exempt the normalization layers by layer type through `norm_decay_mult`).
# - Drop path depends on the task, so a size gives three rates: `backbone` has HRFormer's
#   segmentation rate; `backbone_det` follows Swin in mmdet's Mask R-CNN configs (Swin-T 0.2,
#   Swin-S 0.3), as HRFormer publishes no detection setting; `backbone_pose` has HRFormer's pose
#   rate (HRFormer's official pose configs, also mmpose's HRFormer configs).
# The type is scope-qualified because mmpose registers an `HRFormer` of its own.
backbone = dict(type='mmvitx.HRFormer', frozen_stages=-1, norm_eval=False, with_cp=False,
                norm_cfg=dict(type='SyncBN', requires_grad=True))
backbone_no_decay = {'relative_position_bias_table': dict(decay_mult=0.0)}
