# DeiT (Touvron et al., "Training data-efficient image transformers & distillation through
# attention", ICML 2021): ViT's architecture and ImageNet-1k training; the distilled sizes keep
# their distillation token in the blocks (dense settings: plainvit.py). No weight decay on the
# position terms and the tokens, as in mmseg's DeiT configs.
_base_ = ['./plainvit.py']

backbone = dict(type='mmvitx.DeiT', **_base_.backbone)
backbone_no_decay = {key: dict(decay_mult=0.0)
                     for key in ('pos_embed', 'cls_token', 'dist_token', 'rel_pos_h', 'rel_pos_w')}
