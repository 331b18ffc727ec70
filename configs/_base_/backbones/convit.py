# ConViT (d'Ascoli et al., "ConViT: Improving Vision Transformers with Soft Convolutional
# Inductive Biases", ICML 2021): gated positional self-attention in the first 10 blocks, the class
# token joining before block 10 (dense settings: plainvit.py; ViTDet's relative positions go to
# the two ViT blocks only, GPSA having a positional score of its own). No weight decay on the
# position terms and the class token, as in ConViT's training.
_base_ = ['./plainvit.py']

backbone = dict(type='mmvitx.ConViT', **_base_.backbone)
backbone_no_decay = {key: dict(decay_mult=0.0)
                     for key in ('pos_embed', 'cls_token', 'rel_pos_h', 'rel_pos_w')}
