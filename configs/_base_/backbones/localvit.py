# LocalViT (Li et al., "LocalViT: Bringing Locality to Vision Transformers", arXiv 2104.05707):
# DeiT whose feed-forward networks are inverted residuals with a 3x3 depthwise convolution on the
# token map (dense settings: plainvit.py). Their BatchNorms are synchronised across GPUs and
# trained. No weight decay on the position terms and the class token.
_base_ = ['./plainvit.py']

backbone = dict(type='mmvitx.LocalViT', **_base_.backbone,
                norm_cfg=dict(type='SyncBN', requires_grad=True))
backbone_no_decay = {key: dict(decay_mult=0.0)
                     for key in ('pos_embed', 'cls_token', 'rel_pos_h', 'rel_pos_w')}
