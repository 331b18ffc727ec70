# ViT (Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021): what every size shares
# (the dense settings are in plainvit.py). No weight decay on the position terms and the class
# token (mmseg's and ViTDet's recipes exempt `pos_embed`, mmseg's `cls_token` too); the recipes
# exempt the normalization layers by layer type through `norm_decay_mult`.
_base_ = ['./plainvit.py']

backbone = dict(type='mmvitx.ViT', **_base_.backbone)
backbone_no_decay = {key: dict(decay_mult=0.0)
                     for key in ('pos_embed', 'cls_token', 'rel_pos_h', 'rel_pos_w')}
