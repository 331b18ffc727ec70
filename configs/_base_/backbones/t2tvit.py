# T2T-ViT (Yuan et al., "Tokens-to-Token ViT", ICCV 2021): a tokens-to-token stem (overlapping
# soft splits re-structured by one-head Performer or Transformer layers over the stride-4 and
# stride-8 tokens), ViT blocks without qkv bias and a fixed sinusoid position table, resized to
# the input like a learned one (dense settings: plainvit.py). The blocks attend with the scale of
# the released weights, 1 / sqrt(embed_dims). No weight decay on the class token (the sinusoid
# table and the Performers' random projections are constants, never trained). The released
# weights are under T2T-ViT's Clear BSD licence: converting them is your choice under its terms.
_base_ = ['./plainvit.py']

backbone = dict(type='mmvitx.T2TViT', **_base_.backbone)
backbone_no_decay = {key: dict(decay_mult=0.0) for key in ('cls_token', 'rel_pos_h', 'rel_pos_w')}
