"""ViTDet's simple feature pyramid (``mmvitx.models.necks.SimpleFeaturePyramid``): exact counts
from ViTDet's configuration (detectron2 ``SimpleFeaturePyramid`` with ViT-B/L/H), the levels'
construction, odd input sizes, and that every toolbox builds it by ``type=``."""
import pytest
import torch
import torch.nn.functional as F

from mmvitx.models.necks import SimpleFeaturePyramid
from mmvitx.testing.references import strong_randomize_

# Counted from detectron2's layer list (256 output channels, LayerNorm, 4 levels and the extra
# max-pooled one): ConvTranspose D->D/2 (with bias), LN, ConvTranspose D/2->D/4 for stride 4;
# ConvTranspose D->D/2 for stride 8; per level a bias-free 1x1 conv to 256 and 3x3 conv, each
# with a LayerNorm (2 x 256).
SFP_PARAMS = {768: 5_560_000, 1024: 7_805_184, 1280: 10_640_192}


@pytest.mark.parametrize('channels', list(SFP_PARAMS))
def test_parameter_counts(channels):
    with torch.device('meta'):
        neck = SimpleFeaturePyramid(channels)
    assert sum(p.numel() for p in neck.parameters()) == SFP_PARAMS[channels]


def test_levels_at_an_odd_size():
    neck = strong_randomize_(SimpleFeaturePyramid(64, 32)).eval()
    x = torch.randn(2, 64, 13, 21)
    with torch.no_grad():
        outs = neck((torch.randn(2, 64, 13, 21), x))  # the last backbone output is used
        assert [o.shape[2:] for o in outs] == [(52, 84), (26, 42), (13, 21), (6, 10), (3, 5)]
        # stride 16: the map itself, through the two convolutions; stride 32: max pooled first
        same = neck.output_convs[2](neck.lateral_convs[2](x))
        pooled = neck.output_convs[3](neck.lateral_convs[3](F.max_pool2d(x, 2)))
    torch.testing.assert_close(outs[2], same, rtol=0, atol=0)
    torch.testing.assert_close(outs[3], pooled, rtol=0, atol=0)
    torch.testing.assert_close(outs[4], outs[3][..., ::2, ::2], rtol=0, atol=0)
    assert all(o.shape[1] == 32 for o in outs)


def test_convolutions_are_bias_free_before_their_norms():
    neck = SimpleFeaturePyramid(64, 32)
    for conv_module in (*neck.lateral_convs, *neck.output_convs):
        assert conv_module.conv.bias is None and conv_module.norm_name


def test_bad_options_say_what_is_valid():
    with pytest.raises(ValueError, match=r'scale_factors \[3.0\] are not among \[4.0, 2.0'):
        SimpleFeaturePyramid(64, scale_factors=(4.0, 3.0))
    with pytest.raises(ValueError, match='num_outs \\(3\\) is less than the 4 scale_factors'):
        SimpleFeaturePyramid(64, num_outs=3)


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg', 'mmpose'])
def test_every_toolbox_builds_it(scope):
    import importlib
    registry = importlib.import_module(f'{scope}.registry').MODELS
    neck = registry.build(dict(type='SimpleFeaturePyramid', in_channels=64, out_channels=16))
    assert isinstance(neck, SimpleFeaturePyramid)
