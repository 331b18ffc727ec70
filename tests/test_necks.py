"""ViTDet's simple feature pyramid (``mmvitx.models.necks.SimpleFeaturePyramid``): exact counts
from ViTDet's configuration (detectron2 ``SimpleFeaturePyramid`` with ViT-B/L/H), the levels'
construction, odd input sizes, and that every toolbox builds it by ``type=``. The same for
``MultiBranchFeaturePyramid`` on CrossViT's two maps, and its resampling geometry."""
import pytest
import torch
import torch.nn.functional as F

from mmvitx.models.necks import MultiBranchFeaturePyramid, SimpleFeaturePyramid
from mmvitx.models.necks.multi_branch_feature_pyramid import resample
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


# --------------------------------------------------------------------------------------------
# MultiBranchFeaturePyramid (CrossViT's two branches at strides 12 and 16 x 240 / 224)


def _crossvit_maps(size, channels=(8, 16)):
    """Maps of CrossViT's shapes for an input ``size``: ceil(side / 12), and ceil(side' / 16) of
    the side resized by 224 / 240 to the nearest pixel."""
    small = [-(-side // 12) for side in size]
    large = [-(-((side * 224 + 120) // 240) // 16) for side in size]
    return (torch.randn(2, channels[0], *small), torch.randn(2, channels[1], *large))


CROSSVIT_STRIDES = (12, 16 * 240 / 224)


@pytest.mark.parametrize('channels, out_channels, strides', [
    ((192, 384), 256, (4, 8, 16, 32)),  # CrossViT-15-dagger's detection neck
    ((192, 384), 384, (16, )),  # its pose neck
])
def test_multi_branch_pyramid_parameter_count(channels, out_channels, strides):
    """Per level: a bias-free 1x1 convolution per branch, a LayerNorm, a bias-free 3x3 convolution
    and a LayerNorm (spec_params.multi_branch_pyramid_params)."""
    from spec_params import multi_branch_pyramid_params
    with torch.device('meta'):
        neck = MultiBranchFeaturePyramid(channels, CROSSVIT_STRIDES, out_channels, strides)
    assert sum(p.numel() for p in neck.parameters()) == multi_branch_pyramid_params(
        channels, out_channels, len(strides))
    assert all(lateral.bias is None for level in neck.levels for lateral in level.laterals)
    assert all(level.output_conv.conv.bias is None for level in neck.levels)


@pytest.mark.parametrize('size', [(97, 131), (256, 192), (1024, 1024), (13, 25), (1, 1)],
                         ids=lambda s: f'{s[0]}x{s[1]}')
def test_multi_branch_pyramid_levels_at_odd_sizes(size):
    """Each level's grid is the first map's resampled by the stride ratio, floor(h * 12 / s), at
    least 1 (a 256x192 input gives the 16x12 stride-16 map top-down pose heads expect, 1024 the
    64x64 of a 1024 detector input); a sixth, max-pooled level halves the fifth."""
    neck = strong_randomize_(MultiBranchFeaturePyramid((8, 16), CROSSVIT_STRIDES, 32,
                                                       num_outs=5)).eval()
    maps = _crossvit_maps(size)
    with torch.no_grad():
        outs = neck(maps)
    small = maps[0].shape[2:]
    grids = [tuple(max(1, side * 12 // stride) for side in small) for stride in (4, 8, 16, 32)]
    assert [tuple(o.shape) for o in outs[:4]] == [(2, 32, *grid) for grid in grids]
    assert outs[4].shape[2:] == tuple(-(-side // 2) for side in grids[3])
    assert all(torch.isfinite(o).all() for o in outs)
    if size == (256, 192):
        assert grids[2] == (16, 12)
    pose = MultiBranchFeaturePyramid((8, 16), CROSSVIT_STRIDES, 32, strides=(16, )).eval()
    with torch.no_grad():
        out, = pose(maps)
    assert out.shape[2:] == grids[2]


def test_multi_branch_pyramid_resamples_by_the_exact_stride_ratio():
    """A map whose value is each cell centre's input coordinate comes out with the level's cell
    centres (bilinear interpolation is exact on linear functions; away from the last cells, which
    the borders clamp), whatever the map's size: a level cell and the map positions it takes in
    cover the same input pixels. Resizing the map to the level's grid by size would stretch it."""
    for stride_in, cells in ((12, 22), (16 * 240 / 224, 15)):
        centres = (torch.arange(cells, dtype=torch.float64) + 0.5) * stride_in
        for stride in (4, 8, 16, 32):
            grid = centres.expand(cells, cells)[None, None]  # value: the column's centre
            out = resample(grid, stride_in / stride)[0, 0, 0]
            expected = (torch.arange(out.numel(), dtype=torch.float64) + 0.5) * stride
            inside = (expected >= centres[0]) & (expected <= centres[-1])
            assert inside.sum() >= out.numel() - 4
            torch.testing.assert_close(out[inside], expected[inside], rtol=0, atol=1e-9)


def test_multi_branch_pyramid_projects_on_the_smaller_grid_with_the_same_result():
    """Resampling and the bias-free projection commute: projecting before upsampling (the
    neck's order) gives what resampling first would."""
    torch.manual_seed(0)
    neck = MultiBranchFeaturePyramid((8, 16), CROSSVIT_STRIDES, 32, strides=(4, )).double()
    level = neck.levels[0]
    maps = [m.double() for m in _crossvit_maps((97, 131))]
    with torch.no_grad():
        fused = None
        for x, in_stride, lateral in zip(maps, CROSSVIT_STRIDES, level.laterals):
            grid = None if fused is None else fused.shape[-2:]
            y = lateral(resample(x, in_stride / 4, grid))  # resample first, then project
            fused = y if fused is None else fused + y
        expected = level.output_conv(level.norm(fused))
        actual, = neck(maps)
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)


def test_multi_branch_pyramid_bad_options_say_what_is_valid():
    with pytest.raises(ValueError, match='one stride per input map'):
        MultiBranchFeaturePyramid((8, 16), (12, ))
    with pytest.raises(ValueError, match=r'num_outs \(3\) is less than the 4 strides'):
        MultiBranchFeaturePyramid((8, 16), CROSSVIT_STRIDES, num_outs=3)
    neck = MultiBranchFeaturePyramid((8, 16), CROSSVIT_STRIDES, 16)
    with pytest.raises(ValueError, match="out_indices must give every branch"):
        neck(_crossvit_maps((64, 64))[:1])


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg', 'mmpose'])
def test_every_toolbox_builds_the_multi_branch_pyramid(scope):
    import importlib
    registry = importlib.import_module(f'{scope}.registry').MODELS
    neck = registry.build(dict(type='MultiBranchFeaturePyramid', in_channels=(8, 16),
                               in_strides=CROSSVIT_STRIDES, out_channels=16))
    assert isinstance(neck, MultiBranchFeaturePyramid)
