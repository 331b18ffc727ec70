# TNT (Han et al., "Transformer in Transformer", NeurIPS 2021): an inner transformer over each
# 16x16 patch's 4x4 words (c channels) folded into the patch token before each outer (ViT)
# block; the dense settings are in plainvit.py (the outputs are the outer tokens; ViTDet's windows
# and relative positions go to the outer blocks, the inner ones attend within a patch). No weight
# decay on the two position tables and the class token, as in TNT's training (its
# `no_weight_decay`: `outer_pos`, `inner_pos`, `cls_token`).
_base_ = ['./plainvit.py']

backbone = dict(type='mmvitx.TNT', **_base_.backbone)
backbone_no_decay = {key: dict(decay_mult=0.0)
                     for key in ('pos_embed', 'inner_pos', 'cls_token', 'rel_pos_h', 'rel_pos_w')}
