"""Exact parameter counts the tests assert, derived from ../shared/specs (not from the models).

FasterViT: the spec's counts of the official definitions include the ImageNet classifier (a final
BatchNorm and a Linear to 1000 classes, spec §4.4); mmvitx's dense backbone drops it and puts a
LayerNorm (2C parameters) on each output stage.
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
