"""Exact parameter counts and channels the tests assert, derived from the papers' and official
releases' hyperparameters by counting layer by layer (never printed from mmvitx's models).

``BACKBONE_PARAMS[family][arch]`` (the backbone as built with its defaults: every output level)
and ``LEVEL_CHANNELS[family][arch]`` (the channels of every output level) must cover every preset
of every registered family: tests/test_backbones.py checks each one.

HRFormer: counted from the hyperparameters of the official classification configs (repository
HRNet/HRFormer, ``hrt_tiny``, ``hrt_small``, ``hrt_base``) without the ImageNet classification
head.

FasterViT: the counts of the official definitions (NVlabs/FasterViT, ``fastervit`` 1.0.0's
``faster_vit_{0..6}``) include the ImageNet classifier (a final BatchNorm and a Linear to 1000
classes); mmvitx's dense backbone drops it and puts a LayerNorm (2C parameters) on each output
stage.

MViT: the counts of the official MViTv2 configs (facebookresearch/mvit ``MVITv2_{T,S,B,L,H}``)
without the classifier keep the final LayerNorm, which mmvitx's backbone has as the stage-4 output
norm; each further output stage adds a LayerNorm (2C).
"""

# The official definitions, classifier included; the 4-21k models with their windows and sizes
# (the count does not depend on them). FasterViT-4's 365,555,712 is what the official package
# instantiates (its README's 424.6M is not the released definition).
FASTERVIT_OFFICIAL_PARAMS = {
    '0': 31_404_840, '1': 53_366_696, '2': 75_923_816, '3': 159_547_944, '4': 365_555_712,
    '5': 957_520_552, '6': 1_360_328_872, '4-21k-224': 271_944_224, '4-21k-384': 271_944_224,
    '4-21k-512': 271_944_224, '4-21k-768': 271_944_224,
}
# Stage-1 width of each variant (FasterViT paper, Table 1); stage i has embed * 2**i channels.
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


# MViTv2 without the classifier, keeping the final LayerNorm, which in mmvitx is the stage-4 output
# norm (out_indices (3,)); L expands its width in the MLP (DIM_MUL_IN_ATT False in the released
# MVITv2_L config).
MVIT_V2_BACKBONE_PARAMS = {'t': 23_404_320, 's': 34_101_216, 'b': 50_703_744, 'l': 216_839_952,
                           'h': 665_342_720}
# MViT v1 follows SlowFast's layer structure (facebookresearch/SlowFast MVIT_B_16_CONV: queries
# are pooled only at the three stage transitions). A layer-by-layer count without the classifier
# Linear that gives every block a query pooling (B-16 36,227,328 and B-24 52,769,568; with the
# classifier 36.996M / 53.539M) counts a query pooling conv and norm, 96 * 9 + 2 * 96 = 1,056
# parameters (head width 96 throughout), for each of the 13 (B-16) and 21 (B-24) non-transition
# blocks, which the SlowFast model does not have.
MVIT_V1_BACKBONE_PARAMS = {'v1-b-16': 36_227_328 - 13 * 1_056, 'v1-b-24': 52_769_568 - 21 * 1_056}
# Output channels of the four stages: v2 doubles in the attention of the transition block; v1 and
# the released v2-L in the MLP of the block before it (so their stages end at 2C, 4C, 8C, 8C).
MVIT_STAGE_CHANNELS = {
    't': (96, 192, 384, 768), 's': (96, 192, 384, 768), 'b': (96, 192, 384, 768),
    'l': (288, 576, 1152, 1152), 'h': (192, 384, 768, 1536), 'v1-b-16': (192, 384, 768, 768),
    'v1-b-24': (192, 384, 768, 768),
}


def mvit_backbone_params(arch, out_indices=(0, 1, 2, 3)):
    """The count above (whose final LayerNorm is the stage-4 output norm), with one
    LayerNorm (2C) per requested output instead."""
    channels = MVIT_STAGE_CHANNELS[arch]
    single = {**MVIT_V2_BACKBONE_PARAMS, **MVIT_V1_BACKBONE_PARAMS}[arch]
    return single - 2 * channels[3] + sum(2 * channels[i] for i in out_indices)


# PSViT publishes neither code nor its searched architectures (arXiv 2108.03428): these count
# mmvitx's own instantiations, from the layer structure documented in README's PSViT section (not
# from the model).
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


# HRFormer (all four branches; out_indices (0,) for pose drops the fusion into branches 1-3).
HRFORMER_BRANCH_CHANNELS = {'t': (18, 36, 72, 144), 's': (32, 64, 128, 256),
                            'b': (78, 156, 312, 624)}
HRFORMER_BACKBONE_PARAMS = {'t': 2_572_388, 's': 7_891_050, 'b': 44_040_666}
# With out_indices (0,) plus mmpose's HeatmapHead (a 1x1 conv to 17 joints, no deconvolutions).
HRFORMER_POSE_BACKBONE_AND_HEAD_PARAMS = {'t': 2_524_759, 's': 7_746_779, 'b': 43_211_777}

# TNT (huawei-noah/Efficient-AI-Backbones tnt_pytorch/tnt.py; timm tnt_*, and timm's legacy port
# tnt_s_legacy_patch16_224), layer by layer: 16 x 16 patches of 4 x 4 words of c channels, 12
# blocks, MLP ratio 4 inside and out, no qkv bias (qk and v projections, q, k and v of the width).
TNT_INNER_DIMS = {'s': 24, 's-legacy': 24, 'b': 40}


def _layer_norm(dims):
    return 2 * dims


def _linear(in_dims, out_dims, bias=True):
    return in_dims * out_dims + (out_dims if bias else 0)


def tnt_stem_params(dims, inner, words=16):
    """The word convolution (7x7, 3 -> c, with bias), the inner position table (16 c) and the
    stem's fold (LayerNorm over 16 c, Linear to D with bias, LayerNorm)."""
    return (3 * 7 * 7 * inner + inner + words * inner + _layer_norm(words * inner)
            + _linear(words * inner, dims) + _layer_norm(dims))


def tnt_without_head(dims, inner, legacy=False, depth=12, grid=14, words=16):
    """TNT without the classifier (timm's num_classes=0: S 23,383,584, legacy S 23,370,336,
    B 64,787,680). The official sum(parameters()) also counts ``outer_tokens`` (grid^2 D, frozen
    and unused): 23,843,848 with S's head, the README's 65.6M for B."""
    def transformer(width):  # two LayerNorms, q k v without bias, projection, MLP x4
        return (2 * _layer_norm(width) + _linear(width, 3 * width, bias=False)
                + _linear(width, width) + _linear(width, 4 * width) + _linear(4 * width, width))
    if legacy:  # a LayerNorm per word, a Linear with bias, nothing after
        fold = _layer_norm(inner) + _linear(words * inner, dims)
    else:
        fold = (_layer_norm(words * inner) + _linear(words * inner, dims, bias=False)
                + _layer_norm(dims))
    tokens = dims + (1 + grid * grid) * dims  # class token, outer position table
    return (tnt_stem_params(dims, inner, words) + tokens
            + depth * (transformer(inner) + fold + transformer(dims)) + _layer_norm(dims))


# The plain ViT family (mmvitx/models/backbones/vit.py). The counts "without head" below are those
# of the official definitions without the ImageNet classifier (timm's num_classes=0: class and
# distillation tokens, position table and final LayerNorm kept); timm 1.0.31 prints the same for
# the models it implements. Sources: ViT google-research/vision_transformer
# vit_jax/configs/models.py (timm vit_*), DeiT facebookresearch/deit models.py (timm deit_*),
# CaiT facebookresearch/deit cait_models.py (timm cait_*), DeepViT zhoudaquan/dvit_repo
# models/deep_vision_transformer.py, LocalViT ofsoundof/LocalViT models/localvit.py. CPVT has no
# official code: DeiT's count without the position table ((N + 1) D, or N D without the class
# token) and with one PEG (a depthwise 3x3 convolution with bias, 10 D), as the paper describes.
PLAIN_VIT_WITHOUT_HEAD = {
    'vit': {'ti': 5_524_416, 's': 21_665_664, 'b': 85_798_656, 'b-32': 87_455_232,
            'l': 303_301_632, 'l-32': 305_510_400, 'h': 630_764_800},
    'deit': {'t': 5_524_416, 's': 21_665_664, 'b': 85_798_656, 'b-384': 86_090_496,
             't-distilled': 5_524_800, 's-distilled': 21_666_432, 'b-distilled': 85_800_192,
             'b-distilled-384': 86_092_032},
    # official CaiT without head keeps the class token and the 2 class-attention blocks
    'cait': {'xxs24': 11_763_264, 'xxs24-384': 11_836_224, 'xxs36': 17_106_720,
             'xxs36-384': 17_179_680, 'xs24-384': 26_381_088, 's24': 46_531_200,
             's24-384': 46_677_120, 's36-384': 67_981_632, 'm36-384': 270_452_352,
             'm48-448': 355_691_520},
    'deepvit': {'16b': 24_041_664, '24b': 35_876_448, '32b': 47_711_232, 's': 26_915_632,
                'l': 58_462_708},
    'cpvt': {'ti': 5_488_512, 'ti-gap': 5_488_320, 's': 21_593_856, 's-gap': 21_593_472,
             'b': 85_655_040, 'b-gap': 85_654_272},
    'localvit': {'t': 5_715_696, 'tiny-mlp6-act1': 7_462_080, 't-se4': 9_183_168,
                 's': 22_048_176},
    # facebookresearch/convit models.py (timm convit_*)
    'convit': {'ti': 5_517_512, 's': 27_344_322, 'b': 85_771_040},
    'tnt': {arch: tnt_without_head(dims, TNT_INNER_DIMS[arch], legacy=arch == 's-legacy')
            for arch, dims in (('s', 384), ('s-legacy', 384), ('b', 640))},
    # coeusguo/ceit ceit_model.py without the head, the layer-wise class-token attention block
    # and its layer embedding (the README's 6.4M / 24.2M / 94.4M include them)
    'ceit': {'t': 5_716_736, 's': 22_040_768, 'b': 86_539_328, 't-384': 5_789_696,
             's-384': 22_186_688},
    # yitu-opensource/T2T-ViT models/t2t_vit.py, with the frozen sinusoid table ((N + 1) D) and
    # the Performers' frozen 32 x 64 random projections, as the README's 4.3M ... 64.1M
    't2tvit': {'7': 4_053_222, '10': 5_632_230, '12': 6_684_902, '14': 21_160_550,
               '19': 38_728_422, '24': 63_592_934, 't-14': 21_156_070, 't-19': 38_723_942,
               't-24': 63_588_454},
    # jiangtaoxie/So-ViT v1 src/so_vit.py without the second-order head and the class token's
    # Linear, with the frozen sinusoid table
    'sovit': {'7': 4_151_040, '10': 5_730_048, '14': 21_217_408, '19': 38_764_800},
}
# Width and depth of every preset (the papers' and releases' tables).
PLAIN_VIT_DIMS = {
    'vit': {'ti': (192, 12), 's': (384, 12), 'b': (768, 12), 'b-32': (768, 12), 'l': (1024, 24),
            'l-32': (1024, 24), 'h': (1280, 32)},
    'deit': {'t': (192, 12), 's': (384, 12), 'b': (768, 12), 'b-384': (768, 12),
             't-distilled': (192, 12), 's-distilled': (384, 12), 'b-distilled': (768, 12),
             'b-distilled-384': (768, 12)},
    'cait': {'xxs24': (192, 24), 'xxs24-384': (192, 24), 'xxs36': (192, 36),
             'xxs36-384': (192, 36), 'xs24-384': (288, 24), 's24': (384, 24),
             's24-384': (384, 24), 's36-384': (384, 36), 'm36-384': (768, 36),
             'm48-448': (768, 48)},
    'deepvit': {'16b': (384, 16), '24b': (384, 24), '32b': (384, 32), 's': (396, 16),
                'l': (420, 32)},
    'cpvt': {'ti': (192, 12), 'ti-gap': (192, 12), 's': (384, 12), 's-gap': (384, 12),
             'b': (768, 12), 'b-gap': (768, 12)},
    'localvit': {'t': (192, 12), 'tiny-mlp6-act1': (192, 12), 't-se4': (192, 12),
                 's': (384, 12)},
    'convit': {'ti': (192, 12), 's': (432, 12), 'b': (768, 12)},
    'tnt': {'s': (384, 12), 's-legacy': (384, 12), 'b': (640, 12)},
    'ceit': {'t': (192, 12), 's': (384, 12), 'b': (768, 12), 't-384': (192, 12),
             's-384': (384, 12)},
    't2tvit': {'7': (256, 7), '10': (256, 10), '12': (256, 12), '14': (384, 14), '19': (448, 19),
               '24': (512, 24), 't-14': (384, 14), 't-19': (448, 19), 't-24': (512, 24)},
    'sovit': {'7': (256, 7), '10': (256, 10), '14': (384, 14), '19': (448, 19)},
}


def cait_class_attention_block_params(dims, mlp_ratio=4):
    """A CaiT class-attention block: 2 LayerNorms, q, k, v and proj Linears, the MLP and two
    LayerScales."""
    hidden = mlp_ratio * dims
    return (2 * 2 * dims + 4 * (dims * dims + dims) + (dims * hidden + hidden)
            + (hidden * dims + dims) + 2 * dims)


def plain_vit_backbone_params(family, arch, out_indices=None, out_norm=False):
    """The dense backbone with its defaults: the count without head less the final LayerNorm (2D;
    built only with final_norm=True); CaiT also less its class token (D) and its 2
    class-attention blocks. With ``out_indices``, the blocks after the last requested one are not
    built; ``out_norm``: a LayerNorm (2D) on each output."""
    dims, depth = PLAIN_VIT_DIMS[family][arch]
    params = PLAIN_VIT_WITHOUT_HEAD[family][arch] - 2 * dims
    if family == 'cait':
        params -= dims + 2 * cait_class_attention_block_params(dims)
    if out_indices is not None:
        # ConViT's 10 GPSA blocks each have 5H more than its ViT blocks (pos_proj 3H + H, gates H)
        extra = 5 * PLAIN_VIT_HEADS[family][dims] if family == 'convit' else 0
        blocks = params - plain_vit_outside_blocks(family, arch) - 10 * extra
        per_block = blocks // depth
        params -= sum(per_block + (extra if i < 10 else 0)
                      for i in range(max(out_indices) + 1, depth))
    if out_norm:
        params += 2 * dims * (depth if out_indices is None else len(out_indices))
    return params


def ceit_stem_params(dims, arch, channels=64):
    """CeiT's image-to-tokens stem: a 7x7 convolution without bias (3 -> 64), a BatchNorm and
    a 4x4 convolution to D with bias."""
    return 3 * 7 * 7 * channels + 2 * channels + 4 * 4 * channels * dims + dims


def t2t_stem_params(dims, arch, token_dims=64):
    """T2T-ViT's tokens-to-token stem: two layers (147 -> 64 and 576 -> 64: LayerNorms of
    both widths, q, k, v (with bias in the Performer), the projection and a 64 -> 64 -> 64 MLP,
    with bias; the Performer's frozen 32 x 64 random projection) and a Linear 576 -> D."""
    performer = not arch.startswith('t-')
    def layer(in_dims):
        qkv = in_dims * 3 * token_dims + (3 * token_dims if performer else 0)
        projection_and_mlp = 3 * (token_dims * token_dims + token_dims)
        random_projection = token_dims // 2 * token_dims if performer else 0
        return 2 * in_dims + qkv + projection_and_mlp + 2 * token_dims + random_projection
    return layer(3 * 7 * 7) + layer(9 * token_dims) + 9 * token_dims * dims + dims


def sovit_stem_params(dims, arch, channels=64):
    """So-ViT's stem: a 3x3 convolution with bias (3 -> 64), three bottlenecks (1x1, 3x3 and
    1x1 convolutions without bias to 64, 64 and 256 channels and a 1x1 projection shortcut to
    256, each with a BatchNorm) and a 1x1 convolution to D with bias."""
    width = 4 * channels
    def bottleneck(in_channels):
        convs = in_channels * channels + 9 * channels * channels + channels * width
        shortcut = in_channels * width + 2 * width
        return convs + 2 * (channels + channels + width) + shortcut
    return (3 * 3 * 3 * channels + channels + bottleneck(channels) + 2 * bottleneck(width)
            + width * dims + dims)


# The plain families whose stems have stride 16 without being a patch embedding.
STRIDE_16_STEMS = {'ceit': ceit_stem_params, 't2tvit': t2t_stem_params,
                   'sovit': sovit_stem_params}


def plain_vit_outside_blocks(family, arch):
    """Stem, tokens, position table and PEG of presets whose blocks are all alike (ViT, DeiT,
    CaiT, CPVT, LocalViT, TNT, CeiT, T2T-ViT, So-ViT; the 16b/24b/32b DeepViTs)."""
    dims, _ = PLAIN_VIT_DIMS[family][arch]
    grid, patch = plain_vit_grid_and_patch(arch)
    tokens = plain_vit_tokens(family, arch)
    stem = 3 * patch * patch * dims + dims
    if family == 'tnt':
        stem = tnt_stem_params(dims, TNT_INNER_DIMS[arch])
    if family in STRIDE_16_STEMS:
        stem = STRIDE_16_STEMS[family](dims, arch)
    if family == 'cpvt':
        return stem + tokens * dims + 10 * dims
    if family == 'convit':  # the class token joins at block 10, without a table row
        return stem + tokens * dims + grid * grid * dims
    return stem + tokens * dims + (tokens + grid * grid) * dims


def plain_vit_grid_and_patch(arch):
    """The pretraining token grid (side) and the patch of a preset: 224 / 16 unless the release
    says otherwise (384 and 448 inputs; ViT-B/32 and L/32; ViT-H/14 at 224)."""
    patch = {'b-32': 32, 'l-32': 32, 'h': 14}.get(arch, 16)
    if arch == 'h':
        return 16, patch
    if patch == 32:
        return 7, patch
    grid = {'b-384': 24, 'b-distilled-384': 24, 'xxs24-384': 24, 'xxs36-384': 24,
            'xs24-384': 24, 's24-384': 24, 's36-384': 24, 'm36-384': 24, 'm48-448': 28,
            't-384': 24, 's-384': 24}.get(arch, 14)
    return grid, patch


def plain_vit_tokens(family, arch):
    """Class and distillation tokens of a preset (CaiT's dense backbone has none: its class token
    enters in the class-attention stage only)."""
    if family == 'deit' and 'distilled' in arch:
        return 2
    return 0 if family == 'cait' or arch.endswith('gap') else 1


# Heads per width (the papers' tables): ViT/DeiT/CPVT 64 channels per head, CaiT 48, LocalViT 48,
# DeepViT 12 heads at every width.
PLAIN_VIT_HEADS = {
    'vit': {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16}, 'deit': {192: 3, 384: 6, 768: 12},
    'cpvt': {192: 3, 384: 6, 768: 12}, 'cait': {192: 4, 288: 6, 384: 8, 768: 16},
    'localvit': {192: 4, 384: 8}, 'deepvit': {384: 12, 396: 12, 420: 12},
    'convit': {192: 4, 432: 9, 768: 16}, 'tnt': {384: 6, 640: 10},
    'ceit': {192: 3, 384: 6, 768: 12}, 't2tvit': {256: 4, 384: 6, 448: 7, 512: 8},
    'sovit': {256: 4, 384: 6, 448: 7},
}


def plain_vit_dense_params(family, arch, out_indices=None, with_cls_token=True, final_norm=False,
                           window_size=None, use_rel_pos=False, rel_pos_img_size=None, **_):
    """The dense backbone with the options of a config (ViTDet's and ViTPose's settings): without
    the class/distillation tokens (their position rows stay), with the final LayerNorm (2D), and
    two decomposed relative-position tables of 2S - 1 rows x head width per block (S: the window
    in window blocks, the grid of ``rel_pos_img_size`` or of the pre-training size in the global
    ones, ViTDet's last block of each quarter)."""
    dims, depth = PLAIN_VIT_DIMS[family][arch]
    params = plain_vit_backbone_params(family, arch, out_indices)
    if final_norm:
        params += 2 * dims
    if not with_cls_token:
        params -= plain_vit_tokens(family, arch) * dims
    if use_rel_pos:
        head_dims = dims // PLAIN_VIT_HEADS[family][dims]
        grid, patch = plain_vit_grid_and_patch(arch)
        if rel_pos_img_size:
            grid = rel_pos_img_size // patch
        global_blocks = {(i + 1) * depth // 4 - 1 for i in range(4)} if window_size else set()
        built = depth if out_indices is None else max(out_indices) + 1
        first = 10 if family == 'convit' else 0  # ConViT's GPSA blocks have no tables
        params += sum(2 * (2 * (window_size if window_size and i not in global_blocks else grid)
                           - 1) * head_dims for i in range(first, built))
    return params


# Every preset of every family, as built with its defaults.
BACKBONE_PARAMS = {
    'hrformer': HRFORMER_BACKBONE_PARAMS,
    'fastervit': {arch: fastervit_backbone_params(arch) for arch in FASTERVIT_OFFICIAL_PARAMS},
    'mvit': {arch: mvit_backbone_params(arch) for arch in MVIT_STAGE_CHANNELS},
    'psvit': {arch: PSVIT_BACKBONE_PARAMS[arch, '2d'] for arch in PSVIT_ARCHS},
    **{family: {arch: plain_vit_backbone_params(family, arch) for arch in archs}
       for family, archs in PLAIN_VIT_WITHOUT_HEAD.items()},
}
LEVEL_CHANNELS = {
    'hrformer': HRFORMER_BRANCH_CHANNELS,
    'fastervit': {arch: tuple(fastervit_stage_channels(arch)) for arch in FASTERVIT_EMBED_DIMS},
    'mvit': MVIT_STAGE_CHANNELS,
    'psvit': PSVIT_LEVEL_CHANNELS,
    # every block's patch tokens, at the width
    **{family: {arch: (dims, ) * depth for arch, (dims, depth) in archs.items()}
       for family, archs in PLAIN_VIT_DIMS.items()},
}


# Exact counts of the pose models: the backbone with the one output its head reads, plus the head.
# From the figures above (HRFormer's include mmpose's 1x1 heatmap head; the
# others add a SimpleBaseline head on the stride-32 output).
POSE_MODEL_PARAMS = {
    'hrformer': lambda arch, channels: HRFORMER_POSE_BACKBONE_AND_HEAD_PARAMS[arch],
    'fastervit': lambda arch, channels: (fastervit_backbone_params(arch, (3, ))
                                         + simplebaseline_head_params(channels[3])),
    'mvit': lambda arch, channels: (mvit_backbone_params(arch, (3, ))
                                    + simplebaseline_head_params(channels[3])),
    'psvit': lambda arch, channels: (psvit_backbone_params(arch, out_indices=(3, ))
                                     + simplebaseline_head_params(channels[3])),
}


# CrossViT (IBM/CrossViT models/crossvit.py; timm crossvit_*), layer by layer. Per preset: the
# S- and L-branch widths, blocks per encoder (S, L), heads, MLP ratio, the dagger stem, and the
# branches' pretraining input sizes (patches of 12 and 16). Three encoders; qkv bias.
CROSSVIT_ARCHS = {
    'ti': ((96, 192), (1, 4), 3, 4, False, (240, 224)),
    's': ((192, 384), (1, 4), 6, 4, False, (240, 224)),
    'b': ((384, 768), (1, 4), 12, 4, False, (240, 224)),
    '9': ((128, 256), (1, 3), 4, 3, False, (240, 224)),
    '15': ((192, 384), (1, 5), 6, 3, False, (240, 224)),
    '18': ((224, 448), (1, 6), 7, 3, False, (240, 224)),
    '9-dagger': ((128, 256), (1, 3), 4, 3, True, (240, 224)),
    '15-dagger': ((192, 384), (1, 5), 6, 3, True, (240, 224)),
    '18-dagger': ((224, 448), (1, 6), 7, 3, True, (240, 224)),
    '15-dagger-408': ((192, 384), (1, 5), 6, 3, True, (408, 384)),
    '18-dagger-408': ((224, 448), (1, 6), 7, 3, True, (408, 384)),
}


def crossvit_fusion_params(dims):
    """One encoder's fusion: per branch (width D, the other's D'), the class token's projection
    (LayerNorm D, Linear D -> D'), the cross-attention (LayerNorm D', query, key, value and output
    Linears D' -> D') and the projection back (LayerNorm D', Linear D' -> D)."""
    params = 0
    for dim, other in (dims, dims[::-1]):
        params += (_layer_norm(dim) + _linear(dim, other) + _layer_norm(other)
                   + 4 * _linear(other, other) + _layer_norm(other) + _linear(other, dim))
    return params


def crossvit_params(arch, last_fusion=True, final_norms=True, encoders=3):
    """The official model without its two heads (timm's num_classes=0, which timm 1.0.31 counts
    as Ti 6,724,800, S 26,278,272, B 103,871,232, 9 8,167,296, 15 26,950,464, 18 42,597,408,
    9-dagger 8,390,592, 15-dagger 27,631,008, 18-dagger 43,592,976, 15-dagger-408 27,922,080,
    18-dagger-408 43,932,560). mmvitx's dense backbone leaves out the last encoder's fusion and,
    by default, the final LayerNorms."""
    dims, depths, _, mlp_ratio, dagger, sizes = CROSSVIT_ARCHS[arch]
    params = 0
    for dim, size, patch in zip(dims, sizes, (12, 16)):
        if dagger:  # 7x7 to D/4, 3x3 to D/2, 3x3 to D, with biases
            stem = (3 * 49 * (dim // 4) + dim // 4 + (dim // 4) * 9 * (dim // 2) + dim // 2
                    + (dim // 2) * 9 * dim + dim)
        else:
            stem = 3 * patch * patch * dim + dim
        params += stem + dim + (1 + (size // patch)**2) * dim  # class token, position table
    for dim, depth in zip(dims, depths):  # the ViT blocks of each branch
        hidden = mlp_ratio * dim
        block = (2 * _layer_norm(dim) + _linear(dim, 3 * dim) + _linear(dim, dim)
                 + _linear(dim, hidden) + _linear(hidden, dim))
        params += encoders * depth * block
    params += (encoders if last_fusion else encoders - 1) * crossvit_fusion_params(dims)
    if final_norms:
        params += sum(_layer_norm(dim) for dim in dims)
    return params


def crossvit_backbone_params(arch):
    return crossvit_params(arch, last_fusion=False, final_norms=False)


def multi_branch_pyramid_params(in_channels, out_channels, num_levels):
    """MultiBranchFeaturePyramid: per level, a 1x1 convolution without bias per input map, a
    LayerNorm, a 3x3 convolution without bias and a LayerNorm."""
    return num_levels * (sum(in_channels) * out_channels + _layer_norm(out_channels)
                         + 9 * out_channels**2 + _layer_norm(out_channels))


BACKBONE_PARAMS['crossvit'] = {arch: crossvit_backbone_params(arch) for arch in CROSSVIT_ARCHS}
LEVEL_CHANNELS['crossvit'] = {arch: spec[0] for arch, spec in CROSSVIT_ARCHS.items()}
# Pose: both branches into a one-level (stride 16) pyramid at the L-branch's width, then
# ViTPose's head (two deconvolutions).
POSE_MODEL_PARAMS['crossvit'] = lambda arch, channels: (
    crossvit_backbone_params(arch) + multi_branch_pyramid_params(channels, channels[-1], 1)
    + simplebaseline_head_params(channels[-1], num_deconvs=2))
