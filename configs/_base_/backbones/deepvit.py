# DeepViT (Zhou et al., "DeepViT: Towards Deeper Vision Transformer", arXiv 2103.11886):
# re-attention, whose BatchNorm normalises the attention maps over the heads, as does the
# BatchNorm of the S/L stems (dense settings: plainvit.py). With the 1-2 images per GPU of dense
# training, batch statistics are those of a few images: the BatchNorms are synchronised across
# GPUs and trained. No weight decay on the position terms and the class token.
_base_ = ['./plainvit.py']

backbone = dict(type='mmvitx.DeepViT', **_base_.backbone,
                norm_cfg=dict(type='SyncBN', requires_grad=True))
backbone_no_decay = {key: dict(decay_mult=0.0)
                     for key in ('pos_embed', 'cls_token', 'rel_pos_h', 'rel_pos_w')}
