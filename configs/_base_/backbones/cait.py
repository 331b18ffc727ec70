# CaiT (Touvron et al., "Going deeper with Image Transformers", ICCV 2021): its self-attention
# stage (talking-heads attention, LayerScale); the class-attention stage only updates the class
# token and is not built (dense settings: plainvit.py). No weight decay on the position terms,
# nor on the LayerScales (`ls1`, `ls2`): decay would pull whole residual branches towards zero
# (CaiT's own training exempts them, and ConvNeXt's in mmdet).
_base_ = ['./plainvit.py']

backbone = dict(type='mmvitx.CaiT', **_base_.backbone)
backbone_no_decay = {key: dict(decay_mult=0.0)
                     for key in ('pos_embed', 'ls1', 'ls2', 'rel_pos_h', 'rel_pos_w')}
