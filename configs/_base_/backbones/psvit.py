# PSViT (Chen et al., "PSViT: Better Vision Transformer via Token Pooling and Attention Sharing",
# 2021): what every size shares. psvit-2d-{t,s}.py add the arch, the pooling design, the checkpoint
# and the task variants. The sizes are mmvitx's own instantiations at the budgets of DeiT-Tiny and
# DeiT-Small (README, "PSViT"): the paper's searched models and any dense-prediction setting are
# unpublished (the paper reports COCO detection without its settings).
# - Outputs: PSViT's stages run at strides 8/16/32; the stride-4 level is stage 1's output
#   upsampled by a 2x2 stride-2 transposed convolution (ViTDet's simple-feature-pyramid step), so
#   levels 0 and 1 have the same width.
# - Attention: global in every layer by default (window_size None), the pre-training setting, which
#   fits a 512x512 crop (stage 1: 64x64 = 4k tokens) and 256x192 (768 tokens, fewer than the 28x28
#   of the 224 pre-training input). Large inputs get hybrid window attention (`backbone_det`,
#   `backbone_ocr`): windows of 14x14 tokens (112 pixels at stride 8, 224 at stride 16; ViTDet's
#   window and PSViT's own stride-16 grid at 224) in stages 1 and 2, global attention in stage 2's
#   last basic layer, the layer sharing its map and stage 3 (the scheme of MViTv2 and ViTDet).
#   Attention sharing materialises the attention maps (a sharing layer reuses the map of the layer
#   before it, so no memory-efficient SDPA kernel applies): globally, stage 1 at 800x1333 (100x167,
#   16.7k tokens) would keep a 1.1 GB map per head, layer and image in fp32 for the backward pass,
#   and Cityscapes' whole-image inference at 1024x2048 (32k tokens) 4.3 GB per head.
# - Drop path 0.1, DeiT's rate, for both sizes (PSViT gives none).
# - No weight decay on the position terms, the absolute embedding and the class token of the 1-D
#   design (`pos_embed`, `cls_token`), as in DeiT's and Swin's no-weight-decay lists (the recipes
#   exempt the normalization layers by layer type through `norm_decay_mult`). No BatchNorm: the
#   necks and heads keep the toolboxes' norms.
backbone = dict(type='mmvitx.PSViT', window_size=None, drop_path_rate=0.1, frozen_stages=-1,
                norm_eval=False, with_cp=False)
backbone_no_decay = {key: dict(decay_mult=0.0) for key in ('pos_embed', 'cls_token')}
