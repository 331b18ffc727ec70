# MViT (Li et al., "MViTv2: Improved Multiscale Vision Transformers for Classification and
# Detection", CVPR 2022; Fan et al., "Multiscale Vision Transformers", ICCV 2021 for v1): what every
# size shares. mvitv2-{t,s,b}.py and mvitv1-b16.py add the arch, the drop path, the checkpoint and
# the task variants. MViT has no BatchNorm: the necks and heads keep the toolboxes' norms.
# - Attention: global in every block by default, the pre-training setting. Where the inputs are
#   large, MViTv2 uses its hybrid window attention (windows within a stage, global attention in the
#   last block of stages 2-4; MViTv2 paper): for detection at 800x1333 and for Cityscapes, whose
#   whole-image inference at 1024x2048 would otherwise put 131k queries against 8k pooled keys in
#   every stage-1 block, with a relative-position bias of that size per head. At a 512x512 crop
#   (16k queries, 1k pooled keys) and at 256x192 (3k queries, 192 pooled keys, less than the 224
#   pre-training input) global attention fits. MViT v1 always attends globally: its class token
#   needs it (and without a bias the memory-efficient SDPA kernels apply).
# - Drop path: the rate of the size's ImageNet-1k training in the official configs
#   (facebookresearch/mvit; SlowFast for v1), as no MViT segmentation or pose setting is published;
#   detection takes the rates of detectron2's MViTv2 Cascade Mask R-CNN configs, raised for the
#   longer, larger-input schedule (the paper's text gives other values: T 0.1, S 0.3; the released
#   configs are followed).
# - No weight decay on the position terms: the decomposed relative-position tables of v2
#   (`rel_pos_h`, `rel_pos_w`), the absolute embedding and the class token of v1 (`pos_embed`,
#   `cls_token`), as in detectron2's MViTv2 recipe, which exempts the normalization layers too (the
#   recipes do, by layer type, through `norm_decay_mult`).
backbone = dict(type='mmvitx.MViT', window_attention=False, frozen_stages=-1, norm_eval=False,
                with_cp=False)
backbone_no_decay = {key: dict(decay_mult=0.0)
                     for key in ('pos_embed', 'rel_pos_h', 'rel_pos_w', 'cls_token')}
