# CeiT (Yuan et al., "Incorporating Convolution Designs into Visual Transformers", ICCV 2021): a
# convolutional image-to-tokens stem and locally-enhanced feed-forward networks (a 3x3 depthwise
# convolution on the token map) in ViT blocks (dense settings: plainvit.py; the layer-wise
# class-token attention is left out). ViTPose's final norm is CeiT's final LayerNorm, which in
# CeiT normalised the class-token attention's output, here the last block's tokens. Its
# BatchNorms are synchronised across GPUs and trained. No weight decay on the position table and
# the class token, as in CeiT's training.
_base_ = ['./plainvit.py']

backbone = dict(type='mmvitx.CeiT', **_base_.backbone,
                norm_cfg=dict(type='SyncBN', requires_grad=True))
backbone_no_decay = {key: dict(decay_mult=0.0)
                     for key in ('pos_embed', 'cls_token', 'rel_pos_h', 'rel_pos_w')}
