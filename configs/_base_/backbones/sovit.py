# So-ViT v1 (Xie et al., "So-ViT: Mind Visual Tokens for Vision Transformer", arXiv 2104.10935
# v1): a convolutional stem of ResNet bottlenecks, ViT blocks without qkv bias and a fixed
# sinusoid position table, resized to the input like a learned one (dense settings:
# plainvit.py; the second-order classification head is left out). The blocks attend with the
# scale of the released weights, 1 / sqrt(embed_dims). The stem's BatchNorms are synchronised
# across GPUs and trained. No weight decay on the class token (the sinusoid table is a constant,
# never trained). The official repository carries no licence: converting its released weights is
# your choice.
_base_ = ['./plainvit.py']

backbone = dict(type='mmvitx.SoViT', **_base_.backbone,
                norm_cfg=dict(type='SyncBN', requires_grad=True))
backbone_no_decay = {key: dict(decay_mult=0.0) for key in ('cls_token', 'rel_pos_h', 'rel_pos_w')}
