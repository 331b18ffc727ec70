# FasterViT (Hatamizadeh et al., "FasterViT: Fast Vision Transformers with Hierarchical
# Attention", ICLR 2024): what every size shares. fastervit-{0,2,3,4}.py add the arch, the drop
# path and the checkpoint. FasterViT's dense-prediction code is unreleased; where the paper is
# silent, these follow Swin's mmdet/mmseg configs:
# - Drop path: every task keeps the rate of the size's ImageNet-1k training in FasterViT's
#   published settings (0.2 for FasterViT-0/2, 0.3 for -3/-4), within the range Swin uses in
#   mmdet (0.2), mmseg (0.3) and mmpose (T 0.2, B 0.3).
# - No weight decay on the position terms, which Swin exempts as `relative_position_bias_table` and
#   `absolute_pos_embed`. FasterViT's are MLPs: the SwinV2-style continuous position bias of every
#   attention (`cpb`; SwinV2 exempts its `cpb_mlp` too) and the positional MLPs over the window and
#   carrier-token grids (`window_pos`, `ct_pos`). Nor on the layer scales of FasterViT-3/-4 (`ls1`,
#   `ls2`, `ct_ls1`, `ct_ls2`), as ConvNeXt's in mmdet (its constructor exempts 1-D parameters):
#   decay would pull whole residual branches towards zero. The recipes exempt the normalization
#   layers by layer type through `norm_decay_mult`.
# - BatchNorm of the stem and the convolutional stages synchronised across GPUs and trained
#   (norm_eval False), nothing frozen.
backbone = dict(type='mmvitx.FasterViT', frozen_stages=-1, norm_eval=False, with_cp=False,
                norm_cfg=dict(type='SyncBN', requires_grad=True))
backbone_no_decay = {key: dict(decay_mult=0.0)
                     for key in ('.cpb.', '.window_pos.', '.ct_pos.', 'ls1.weight', 'ls2.weight')}
