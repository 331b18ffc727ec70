# CPVT (Chu et al., "Conditional Positional Encodings for Vision Transformers", ICLR 2023): DeiT
# with a position encoding generator (a depthwise convolution after the first block) instead of
# a position table, so any input size without resizing anything (dense settings: plainvit.py).
# The plain CPVT has no released weights: its checkpoints are ImageNet classifiers of your own.
# No weight decay on the class token and the relative-position tables.
_base_ = ['./plainvit.py']

backbone = dict(type='mmvitx.CPVT', **_base_.backbone)
backbone_no_decay = {key: dict(decay_mult=0.0) for key in ('cls_token', 'rel_pos_h', 'rel_pos_w')}
