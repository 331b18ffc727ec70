"""Exact parameter counts the tests assert, derived from ../shared/specs (not from the models).

FasterViT: the spec's counts of the official definitions include the ImageNet classifier (a final
BatchNorm and a Linear to 1000 classes, spec §4.4); mmvitx's dense backbone drops it and puts a
LayerNorm (2C parameters) on each output stage.

MViT: paramcount.py's backbone counts keep the final LayerNorm, which mmvitx's backbone has as the
stage-4 output norm; each further output stage adds a LayerNorm (2C).
"""

# paramcount.py: fastervit(**FV[...]); the 4-21k models at 512/768 with their windows and res.
# FasterViT-4's 365,555,712 is also what the official package instantiates (spec §4.3).
FASTERVIT_OFFICIAL_PARAMS = {
    '0': 31_404_840, '1': 53_366_696, '2': 75_923_816, '3': 159_547_944, '4': 365_555_712,
    '5': 957_520_552, '6': 1_360_328_872, '4-21k-224': 271_944_224, '4-21k-384': 271_944_224,
    '4-21k-512': 271_944_224, '4-21k-768': 271_944_224,
}
# Stage-1 width of each variant (spec §4.2); stage i has embed * 2**i channels.
FASTERVIT_EMBED_DIMS = {'0': 64, '1': 80, '2': 96, '3': 128, '4': 196, '5': 320, '6': 320,
                        '4-21k-224': 196, '4-21k-384': 196, '4-21k-512': 196, '4-21k-768': 196}


def fastervit_stage_channels(arch):
    return [FASTERVIT_EMBED_DIMS[arch] * 2**i for i in range(4)]


def fastervit_backbone_params(arch, out_indices=(0, 1, 2, 3)):
    """The official count without the classifier, plus one LayerNorm per output."""
    channels = fastervit_stage_channels(arch)
    classifier = 2 * channels[-1] + channels[-1] * 1000 + 1000
    return (FASTERVIT_OFFICIAL_PARAMS[arch] - classifier
            + sum(2 * channels[i] for i in out_indices))


def simplebaseline_head_params(in_channels, joints=17, deconv_channels=256, num_deconvs=3):
    """mmpose's HeatmapHead with its default deconvolutions: 4x4 transposed convs without bias,
    each followed by BN, then a 1x1 conv (with bias) to the joints."""
    params, channels = 0, in_channels
    for _ in range(num_deconvs):
        params += channels * deconv_channels * 16 + 2 * deconv_channels
        channels = deconv_channels
    return params + channels * joints + joints


# MViT. paramcount.py: mvitv2(head=False, **MV[...]) keeps the final LayerNorm, which in mmvitx is
# the stage-4 output norm (out_indices (3,)); L with dim_mul_in_att=False, the released setting
# (spec §2.3).
MVIT_V2_BACKBONE_PARAMS = {'t': 23_404_320, 's': 34_101_216, 'b': 50_703_744, 'l': 216_839_952,
                           'h': 665_342_720}
# MViT v1 follows SlowFast's layer structure (spec §2.4: queries are pooled only at the three stage
# transitions). paramcount.py's v1 figures without the classifier Linear (B-16 36,227,328 and B-24
# 52,769,568; the printed 36.996M / 53.539M include it) give every block a query pooling conv and
# norm, 96 * 9 + 2 * 96 = 1,056 parameters (head width 96 throughout) that the 13 (B-16) and 21
# (B-24) non-transition blocks of the SlowFast model do not have.
MVIT_V1_BACKBONE_PARAMS = {'v1-b-16': 36_227_328 - 13 * 1_056, 'v1-b-24': 52_769_568 - 21 * 1_056}
# Output channels of the four stages: v2 doubles in the attention of the transition block, v1 in
# the MLP of the block before it (so its stages end at 2C, 4C, 8C, 8C).
MVIT_STAGE_CHANNELS = {
    't': (96, 192, 384, 768), 's': (96, 192, 384, 768), 'b': (96, 192, 384, 768),
    'l': (144, 288, 576, 1152), 'h': (192, 384, 768, 1536), 'v1-b-16': (192, 384, 768, 768),
    'v1-b-24': (192, 384, 768, 768),
}


def mvit_backbone_params(arch, out_indices=(0, 1, 2, 3)):
    """The paramcount.py count (whose final LayerNorm is the stage-4 output norm), with one
    LayerNorm (2C) per requested output instead."""
    channels = MVIT_STAGE_CHANNELS[arch]
    single = {**MVIT_V2_BACKBONE_PARAMS, **MVIT_V1_BACKBONE_PARAMS}[arch]
    return single - 2 * channels[3] + sum(2 * channels[i] for i in out_indices)


# PSViT publishes no architecture (spec §3.1): these count mmvitx's own instantiations, from the
# layer structure documented in mmvitx/models/backbones/psvit.py (not from the model).
PSVIT_ARCHS = {
    't': dict(dims=(64, 128, 256), layers=('BSBSBSBS', 'BSBSBSBS', 'BSBB')),
    's': dict(dims=(128, 256, 512), layers=('BSBSBSBSBS', 'BSBSBSBS', 'BSBB')),
}
# Channels of the output levels at strides 4/8/16/32 (level 0 is stage 1 upsampled).
PSVIT_LEVEL_CHANNELS = {arch: (a['dims'][0], *a['dims']) for arch, a in PSVIT_ARCHS.items()}


def psvit_backbone_params(arch, pooling='2d', out_indices=(0, 1, 2, 3), pretrain_grid=28):
    dims, layers = PSVIT_ARCHS[arch]['dims'], PSVIT_ARCHS[arch]['layers']
    params = 3 * 8 * 8 * dims[0] + dims[0]  # 8x8 patch embedding
    params += pretrain_grid**2 * dims[0]  # position embedding
    if pooling == '1d':
        params += 2 * dims[0]  # class token and its position
    for stage, codes in enumerate(layers):
        dim = dims[stage]
        norms_and_mlp = 2 * 2 * dim + 8 * dim**2 + 5 * dim
        proj = dim**2 + dim
        for code in codes:
            # A basic layer projects q, k, v; a sharing one v only.
            qkv = 3 * (dim**2 + dim) if code == 'B' else dim**2 + dim
            params += norms_and_mlp + qkv + proj
        if stage:
            kernel = 9 if pooling == '2d' else 1
            params += kernel * dims[stage - 1] * dim + dim + 2 * dim  # conv + LayerNorm
    if 0 in out_indices:
        params += 4 * dims[0]**2 + dims[0]  # 2x2 transposed conv
    return params + sum(2 * PSVIT_LEVEL_CHANNELS[arch][i] for i in out_indices)


# The dense backbone of the configs (all four levels), by design: (arch, pooling) -> count.
# Checked against the formula above and against the model in tests/test_configs.py
# (test_psvit_param_formula).
PSVIT_BACKBONE_PARAMS = {('t', '2d'): 5_297_920, ('s', '2d'): 21_363_200,
                         ('t', '1d'): 4_970_368, ('s', '1d'): 20_052_736}
