"""CeiT, T2T-ViT and So-ViT (models/backbones/vit.py): the plain ViTs with another stem. No
reference implementation is installed, so each paper's change is checked by what defines it:
CeiT's LeFF sees exactly a token's 3x3 neighbourhood (and passes the class token as the official
code does), T2T-ViT's soft splits overlap and its Performer layer is its kernel expression,
So-ViT's stem has stride 16 and projection shortcuts, the released attention scale, the fixed
sinusoid table; and the converters map official layouts (written here from the releases' names
and shapes, not from mmvitx's models) onto the same computation as loading them by hand. The
generic checks (counts, sizes, gradients, freezing, ONNX) are in tests/test_backbones.py and
tests/test_onnx.py."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmvitx.models.backbones import CeiT, SoViT, T2TViT
from mmvitx.models.backbones.vit import PlainAttention, TokensToTokenLayer
from mmvitx.models.pretrained import preset_fits
from mmvitx.testing.references import strong_randomize_
from spec_params import plain_vit_dense_params

SMALL = dict(embed_dims=32, depth=2, num_heads=2)


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def official_tensors(shapes, seed=0):
    """Random tensors of the given shapes at a trained model's scale (weights N(0, 1 / fan-in),
    scales near 1, positive BatchNorm variances, integer counters); the Performers' random
    matrices as the official code draws them (orthogonal rows of norm sqrt(m)) and their
    queries and keys small enough for the kernel features not to vanish (exp(-|q|^2 / 2))."""
    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for key, shape in shapes.items():
        if key.endswith('num_batches_tracked'):
            tensors[key] = torch.tensor(7)
        elif key.endswith('running_var'):
            tensors[key] = torch.rand(shape, generator=generator) + 0.5
        elif key.endswith('.w'):
            random = torch.randn(shape, generator=generator)
            tensors[key] = torch.linalg.qr(random.T)[0].T * shape[0]**0.5
        elif len(shape) >= 2:
            fan_in = math.prod(shape[1:])
            scale = 0.25 if key.endswith('kqv.weight') else 1.
            tensors[key] = torch.randn(shape, generator=generator) * scale / fan_in**0.5
        elif key.endswith('weight'):
            tensors[key] = 1 + 0.3 * torch.randn(shape, generator=generator)
        else:
            tensors[key] = 0.2 * torch.randn(shape, generator=generator)
    return tensors


def bn(prefix, channels):
    shapes = {f'{prefix}.{name}': (channels, )
              for name in ('weight', 'bias', 'running_mean', 'running_var')}
    return shapes | {f'{prefix}.num_batches_tracked': ()}


def linear(prefix, in_dims, out_dims, bias=True):
    return {f'{prefix}.weight': (out_dims, in_dims)} | ({f'{prefix}.bias': (out_dims, )}
                                                          if bias else {})


def norm(prefix, dims):
    return {f'{prefix}.weight': (dims, ), f'{prefix}.bias': (dims, )}


def official_blocks(dims, depth, mlp_ratio, qkv_bias):
    """The blocks of the official files (timm 0.3's names)."""
    hidden = int(dims * mlp_ratio)
    shapes = {}
    for i in range(depth):
        block = f'blocks.{i}'
        shapes |= (norm(f'{block}.norm1', dims) | linear(f'{block}.attn.qkv', dims, 3 * dims,
                                                          qkv_bias)
                   | linear(f'{block}.attn.proj', dims, dims) | norm(f'{block}.norm2', dims))
        if mlp_ratio:
            shapes |= (linear(f'{block}.mlp.fc1', dims, hidden)
                       | linear(f'{block}.mlp.fc2', hidden, dims))
    return shapes


def official_ceit(dims, depth, grid, channels=64):
    """coeusguo/ceit ``ceit_model.py``: ``i2t`` (a HybridEmbed around Image2Tokens), blocks with
    ``leff.{conv,bn}{1,2,3}``, the LCA block, its layer embedding, the final norm, the head."""
    hidden = 4 * dims
    shapes = {'i2t.backbone.conv.weight': (channels, 3, 7, 7), **bn('i2t.backbone.bn', channels),
              'i2t.proj.weight': (dims, channels, 4, 4), 'i2t.proj.bias': (dims, ),
              'cls_token': (1, 1, dims), 'pos_embed': (1, 1 + grid * grid, dims),
              **official_blocks(dims, depth, 0, True)}
    for i in range(depth):
        leff = f'blocks.{i}.leff'
        shapes |= {f'{leff}.conv1.weight': (hidden, dims, 1, 1), f'{leff}.conv1.bias': (hidden, ),
                   f'{leff}.conv2.weight': (hidden, 1, 3, 3), f'{leff}.conv2.bias': (hidden, ),
                   f'{leff}.conv3.weight': (dims, hidden, 1, 1), f'{leff}.conv3.bias': (dims, )}
        shapes |= bn(f'{leff}.bn1', hidden) | bn(f'{leff}.bn2', hidden) | bn(f'{leff}.bn3', dims)
    shapes |= (norm('lca.norm1', dims) | linear('lca.attn.qkv', dims, 3 * dims)
               | linear('lca.attn.proj', dims, dims) | norm('lca.norm2', dims)
               | linear('lca.feedforward.fc1', dims, hidden)
               | linear('lca.feedforward.fc2', hidden, dims))
    return shapes | {'pos_layer_embed': (1, depth, dims)} | norm('norm', dims) | linear(
        'head', dims, 1000)


def official_t2t(dims, depth, mlp_ratio, performer, grid, token_dims=64):
    """yitu-opensource/T2T-ViT: ``tokens_to_token.attention{1,2}`` (Token_performer: ``kqv``,
    ``proj``, ``norm1``, ``norm2``, ``mlp.{0,2}``, the random matrix ``w``; Token_transformer:
    ``norm1``, ``attn.{qkv,proj}``, ``norm2``, ``mlp.fc{1,2}``), ``project``, blocks without qkv
    bias, the sinusoid ``pos_embed``, ``norm``, ``head``."""
    shapes = {}
    for name, in_dims in (('attention1', 3 * 7 * 7), ('attention2', 9 * token_dims)):
        layer = f'tokens_to_token.{name}'
        shapes |= norm(f'{layer}.norm1', in_dims) | norm(f'{layer}.norm2', token_dims)
        if performer:
            shapes |= (linear(f'{layer}.kqv', in_dims, 3 * token_dims)
                       | linear(f'{layer}.proj', token_dims, token_dims)
                       | linear(f'{layer}.mlp.0', token_dims, token_dims)
                       | linear(f'{layer}.mlp.2', token_dims, token_dims)
                       | {f'{layer}.w': (token_dims // 2, token_dims)})
        else:
            shapes |= (linear(f'{layer}.attn.qkv', in_dims, 3 * token_dims, bias=False)
                       | linear(f'{layer}.attn.proj', token_dims, token_dims)
                       | linear(f'{layer}.mlp.fc1', token_dims, token_dims)
                       | linear(f'{layer}.mlp.fc2', token_dims, token_dims))
    return (shapes | linear('tokens_to_token.project', 9 * token_dims, dims)
            | {'cls_token': (1, 1, dims), 'pos_embed': (1, 1 + grid * grid, dims)}
            | official_blocks(dims, depth, mlp_ratio, False) | norm('norm', dims)
            | linear('head', dims, 1000))


def official_sovit(dims, depth, mlp_ratio, grid):
    """jiangtaoxie/So-ViT v1: ``visual_tokens.tokens.{stem.0,stage.{0,1,2},transition}``
    (torchvision-style bottlenecks with ``downsample.{0,1}``), blocks without qkv bias, the
    sinusoid ``pos_embed``, ``norm`` and the ``classifier`` (its second-order branch and
    ``cls_fc``; the names inside ``representation`` are not established here, and the converter
    drops ``classifier.`` whole)."""
    tokens = 'visual_tokens.tokens'
    shapes = {f'{tokens}.stem.0.weight': (64, 3, 3, 3), f'{tokens}.stem.0.bias': (64, )}
    for i, inplanes in enumerate((64, 256, 256)):
        stage = f'{tokens}.stage.{i}'
        shapes |= {f'{stage}.conv1.weight': (64, inplanes, 1, 1),
                   f'{stage}.conv2.weight': (64, 64, 3, 3),
                   f'{stage}.conv3.weight': (256, 64, 1, 1),
                   f'{stage}.downsample.0.weight': (256, inplanes, 1, 1)}
        shapes |= (bn(f'{stage}.bn1', 64) | bn(f'{stage}.bn2', 64) | bn(f'{stage}.bn3', 256)
                   | bn(f'{stage}.downsample.1', 256))
    shapes |= {f'{tokens}.transition.weight': (dims, 256, 1, 1),
               f'{tokens}.transition.bias': (dims, ), 'cls_token': (1, 1, dims),
               'pos_embed': (1, 1 + grid * grid, dims),
               'classifier.representation.conv_dr_block.0.weight': (48, dims, 1, 1),
               'classifier.normalization.weight': (48, )}
    return (shapes | official_blocks(dims, depth, mlp_ratio, False) | norm('norm', dims)
            | linear('classifier.visual_fc', 48 * 24, 1000) | linear('classifier.cls_fc', dims,
                                                                        1000))


def load_by_hand(model, official, modules, dropped):
    """Each official prefix's tensors into the module named for it (``modules``: prefix ->
    module, or -> (module, function of the prefix's tensors)); every official tensor but the
    ``dropped`` prefixes is used."""
    used = set()
    with torch.no_grad():
        for prefix, target in modules.items():
            module, transform = target if isinstance(target, tuple) else (target, dict)
            if isinstance(module, torch.nn.Parameter):
                module.copy_(official[prefix])
                used.add(prefix)
                continue
            own = {key[len(prefix) + 1:]: value for key, value in official.items()
                   if key.startswith(prefix + '.')}
            module.load_state_dict(transform(own), strict=True)
            used.update(f'{prefix}.{key}' for key in own)
    assert set(official) - used == {k for k in official if k.startswith(dropped)}


def block_modules(model):
    modules = {'cls_token': model.cls_token, 'pos_embed': model.pos_embed, 'norm': model.norm}
    for i, block in enumerate(model.blocks):
        modules |= {f'blocks.{i}.norm1': block.norm1, f'blocks.{i}.attn.qkv': block.attn.qkv,
                    f'blocks.{i}.attn.proj': block.attn.proj, f'blocks.{i}.norm2': block.norm2}
        if block.mlp is not None:
            modules |= {f'blocks.{i}.mlp.fc1': block.mlp.fc1, f'blocks.{i}.mlp.fc2': block.mlp.fc2}
    return modules


def outputs(model, size=(64, 96)):
    x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return model.eval()(x)


def assert_same_outputs(converted_model, by_hand):
    for a, b in zip(outputs(converted_model), outputs(by_hand)):
        assert torch.equal(a, b)


def test_ceit_converter_maps_the_official_layout():
    arch = dict(SMALL, pretrain_img_size=64)
    official = official_tensors(official_ceit(32, 2, grid=4))
    converted = CeiT.converter()(official)
    model = CeiT(arch, final_norm=True)
    model.load_state_dict(converted, strict=True)
    by_hand = CeiT(arch, final_norm=True)
    modules = block_modules(by_hand) | {'i2t.backbone.conv': by_hand.patch_embed.conv,
                                        'i2t.backbone.bn': by_hand.patch_embed.bn,
                                        'i2t.proj': by_hand.patch_embed.proj}
    for i, block in enumerate(by_hand.blocks):
        for n, layer in enumerate((block.ffn.fc1, block.ffn.dwconv, block.ffn.fc2), 1):
            modules |= {f'blocks.{i}.leff.conv{n}': layer.conv, f'blocks.{i}.leff.bn{n}': layer.bn}
    load_by_hand(by_hand, official, modules, dropped=('lca.', 'pos_layer_embed', 'head.'))
    assert_same_outputs(model, by_hand)


def performer_by_hand(own):
    """The official Performer's Linear to keys, queries and values (in this order) as one to
    queries, keys and values."""
    def reorder(tensor):
        keys, queries, values = tensor.chunk(3)
        return torch.cat([queries, keys, values])
    return {name: reorder(tensor) for name, tensor in own.items()}


@pytest.mark.parametrize('performer', [True, False], ids=['performer', 'transformer'])
def test_t2t_converter_maps_the_official_layout(performer):
    arch = dict(SMALL, pretrain_img_size=64, mlp_ratio=3,
                stem='t2t-performer' if performer else 't2t-transformer')
    official = official_tensors(official_t2t(32, 2, 3, performer, grid=4))
    model = T2TViT(arch, final_norm=True)
    model.load_state_dict(T2TViT.converter()(official), strict=True)
    by_hand = T2TViT(arch, final_norm=True)
    stem = by_hand.patch_embed
    modules = block_modules(by_hand) | {'tokens_to_token.project': stem.project}
    for name in ('attention1', 'attention2'):
        layer, prefix = getattr(stem, name), f'tokens_to_token.{name}'
        modules |= {f'{prefix}.norm1': layer.norm1, f'{prefix}.norm2': layer.norm2}
        if performer:
            modules |= {f'{prefix}.kqv': (layer.qkv, performer_by_hand),
                        f'{prefix}.proj': layer.proj, f'{prefix}.mlp.0': layer.mlp.fc1,
                        f'{prefix}.mlp.2': layer.mlp.fc2, f'{prefix}.w': layer.random_projection}
        else:
            modules |= {f'{prefix}.attn.qkv': layer.qkv, f'{prefix}.attn.proj': layer.proj,
                        f'{prefix}.mlp': layer.mlp}
    load_by_hand(by_hand, official, modules, dropped=('head.', ))
    assert_same_outputs(model, by_hand)
    if performer:  # the Performer's rows in the official order would compute something else
        unordered = T2TViT(arch, final_norm=True)
        unordered.load_state_dict(by_hand.state_dict())
        with torch.no_grad():
            for name in ('attention1', 'attention2'):
                prefix = f'tokens_to_token.{name}.kqv'
                getattr(unordered.patch_embed, name).qkv.load_state_dict(
                    {'weight': official[f'{prefix}.weight'], 'bias': official[f'{prefix}.bias']})
        differences = [(a - b).abs().max() for a, b in zip(outputs(model), outputs(unordered))]
        assert min(differences) > 0.01


def test_sovit_converter_maps_the_official_layout():
    arch = dict(SMALL, pretrain_img_size=64, mlp_ratio=3)
    official = official_tensors(official_sovit(32, 2, 3, grid=4))
    model = SoViT(arch, final_norm=True)
    model.load_state_dict(SoViT.converter()(official), strict=True)
    by_hand = SoViT(arch, final_norm=True)
    tokens = 'visual_tokens.tokens'
    modules = block_modules(by_hand) | {f'{tokens}.stem.0': by_hand.patch_embed.conv,
                                        f'{tokens}.transition': by_hand.patch_embed.proj}
    modules |= {f'{tokens}.stage.{i}': layer for i, layer in enumerate(by_hand.patch_embed.layers)}
    load_by_hand(by_hand, official, modules, dropped=('classifier.', ))
    assert_same_outputs(model, by_hand)


@pytest.mark.parametrize('cls, arch, shapes', [
    (CeiT, 't', lambda: official_ceit(192, 12, grid=14)),
    (CeiT, 's-384', lambda: official_ceit(384, 12, grid=24)),
    (T2TViT, '7', lambda: official_t2t(256, 7, 2, True, grid=14)),
    (T2TViT, 't-14', lambda: official_t2t(384, 14, 3, False, grid=14)),
    (SoViT, '10', lambda: official_sovit(256, 10, 2, grid=14)),
], ids=['ceit-t', 'ceit-s-384', 't2tvit-7', 't2tvit-t-14', 'sovit-10'])
def test_official_presets_convert_to_their_preset(cls, arch, shapes):
    """A release's layout (names and shapes, on the meta device) converts to exactly the preset's
    weights with its final norm, and the converter tool's check names the preset."""
    official = {key: torch.empty(shape, device='meta') for key, shape in shapes().items()}
    converted = cls.converter()(official)
    with torch.device('meta'):
        model = cls(arch, final_norm=True)
    assert {k: v.shape for k, v in converted.items()} == {
        k: v.shape for k, v in model.state_dict().items()}
    label, fit = preset_fits(cls, converted)[0]
    assert fit.fits and label == repr(arch), (label, fit)
    assert cls.pretrain_img_size_of(converted) == (384 if arch.endswith('384') else 224)


def test_leff_sees_exactly_its_3x3_neighbourhood_and_passes_the_class_token_normalised():
    torch.manual_seed(0)
    model = strong_randomize_(CeiT(dict(embed_dims=16, depth=1, num_heads=2))).eval()
    block = model.blocks[0]
    with torch.no_grad():  # no attention branch: the block is x + LeFF(LN(x))
        block.attn.proj.weight.zero_()
        block.attn.proj.bias.zero_()
    x = torch.randn(1, 1 + 5 * 7, 16)
    with torch.no_grad():
        out = block(x, (5, 7), 1)
        # the official LeFF hands LN(x) of the class token back: the residual doubles it up
        assert torch.equal(out[:, 0], x[:, 0] + block.norm2(x)[:, 0])
        for i, j in ((2, 5), (0, 0), (4, 6)):
            changed = x.clone()
            changed[:, 1 + i * 7 + j] += 1
            out_changed = block(changed, (5, 7), 1)
            assert torch.equal(out_changed[:, 0], out[:, 0])
            differs = (out_changed - out)[0, 1:].abs().amax(dim=-1).view(5, 7) > 0
            expected = torch.zeros(5, 7, dtype=torch.bool)
            expected[max(i - 1, 0):i + 2, max(j - 1, 0):j + 2] = True
            assert torch.equal(differs, expected), (i, j)


@pytest.mark.parametrize('stem', ['t2t-performer', 't2t-transformer'])
def test_t2t_soft_splits_overlap(stem):
    """Without the layers' attention (their projections zeroed, which leaves each token to its
    values and MLP), output token (i, j) depends on exactly the pixels 16 i - 14 ... 16 i + 16
    by 16 j - 14 ... 16 j + 16: 14 pixels before its 16 x 16 cell and one after (pixel (20, 2),
    14 pixels left of token (1, 1)'s cell, changes it; (20, 1) does not)."""
    torch.manual_seed(0)
    tokens_to_token = T2TViT(dict(SMALL, stem=stem)).double().eval().patch_embed
    with torch.no_grad():
        for layer in (tokens_to_token.attention1, tokens_to_token.attention2):
            layer.proj.weight.zero_()
            layer.proj.bias.zero_()
    image = torch.randn(1, 3, 64, 80, dtype=torch.float64)
    with torch.no_grad():
        out = tokens_to_token(image)
        assert out.shape == (1, 32, 4, 5)

        def window(side, pixel):
            return [t for t in range(side) if 16 * t - 14 <= pixel <= 16 * t + 16]

        for row, col in ((20, 2), (20, 1), (33, 47), (63, 79), (0, 48)):
            changed = image.clone()
            changed[..., row, col] += 1
            differs = (tokens_to_token(changed) - out)[0].abs().amax(dim=0) > 0
            expected = torch.zeros(4, 5, dtype=torch.bool)
            for i in window(4, row):
                for j in window(5, col):
                    expected[i, j] = True
            assert torch.equal(differs, expected), (row, col)


def randomized_t2t_layer(performer):
    torch.manual_seed(0)
    layer = TokensToTokenLayer(12, 8, performer).double()
    for module in (layer.norm1, layer.qkv, layer.proj, layer.norm2, layer.mlp):
        strong_randomize_(module)
    return layer


def test_performer_layer_is_its_kernel_expression():
    """phi(u) = exp(W u - |u|^2 / 2) / sqrt(m) for the fixed orthogonal W (rows of norm
    sqrt(m)), the attention sum_j K_ij v_j / (sum_j K_ij + 1e-8) with K_ij = phi(q_i) . phi(k_j),
    an estimate of exp(q_i . k_j): computed here as the full N x N kernel."""
    layer = randomized_t2t_layer(performer=True)
    projection = layer.random_projection
    features = projection.shape[0]
    assert features == 4 and not projection.requires_grad
    torch.testing.assert_close(projection @ projection.T,  # drawn in float32
                               features * torch.eye(features, dtype=torch.float64), atol=1e-5,
                               rtol=0)
    x = torch.randn(2, 10, 12, dtype=torch.float64)
    normed = F.layer_norm(x, (12, ), layer.norm1.weight, layer.norm1.bias, eps=1e-5)
    q, k, v = F.linear(normed, layer.qkv.weight, layer.qkv.bias).split(8, dim=-1)

    def phi(u):
        return torch.exp(u @ projection.T - (u * u).sum(-1, keepdim=True) / 2) / math.sqrt(
            features)

    kernel = phi(q) @ phi(k).transpose(1, 2)
    weights = kernel / kernel.sum(-1, keepdim=True)  # each query's weights over the 10 keys
    assert kernel.min() > 0 and weights.std() > 0.05  # positive, and far from uniform (0.1)
    y = v + F.linear(kernel @ v / (kernel.sum(-1, keepdim=True) + 1e-8), layer.proj.weight,
                     layer.proj.bias)
    hidden = F.gelu(F.linear(F.layer_norm(y, (8, ), layer.norm2.weight, layer.norm2.bias,
                                          eps=1e-5), layer.mlp.fc1.weight, layer.mlp.fc1.bias))
    expected = y + F.linear(hidden, layer.mlp.fc2.weight, layer.mlp.fc2.bias)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), expected, rtol=1e-10, atol=1e-10)


def test_transformer_t2t_layer_scales_by_the_input_width():
    layer = randomized_t2t_layer(performer=False)
    assert layer.qkv.bias is None and layer.random_projection is None
    x = torch.randn(2, 10, 12, dtype=torch.float64)
    normed = F.layer_norm(x, (12, ), layer.norm1.weight, layer.norm1.bias, eps=1e-5)
    q, k, v = F.linear(normed, layer.qkv.weight).split(8, dim=-1)
    attn = (q @ k.transpose(1, 2) / math.sqrt(12)).softmax(dim=-1)  # 12: the input width
    y = v + F.linear(attn @ v, layer.proj.weight, layer.proj.bias)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), y + layer.mlp(layer.norm2(y)), rtol=1e-10,
                                   atol=1e-10)


def test_sovit_stem_has_stride_16_and_projection_shortcuts():
    torch.manual_seed(0)
    stem = strong_randomize_(SoViT(dict(SMALL)).patch_embed).double().eval()
    x = torch.randn(1, 3, 64, 96, dtype=torch.float64)
    with torch.no_grad():
        assert stem(x).shape == (1, 32, 4, 6)
    assert stem.conv.bias is not None and stem.conv.kernel_size == (3, 3)
    for layer in stem.layers:
        assert layer.conv2.stride == (2, 2) and layer.downsample[0].stride == (2, 2)
        assert layer.downsample[0].kernel_size == (1, 1)
        assert layer.bn1.eps == layer.bn2.eps == layer.bn3.eps == 1e-3
        assert layer.downsample[1].eps == 1e-5
    # without its residual branch (last BatchNorm zeroed) a bottleneck is relu(projection(x))
    first = stem.layers[0]
    x = torch.randn(1, 64, 16, 24, dtype=torch.float64)
    with torch.no_grad():
        first.bn3.weight.zero_()
        first.bn3.bias.zero_()
        torch.testing.assert_close(first(x), F.relu(first.downsample(x)), rtol=0, atol=0)


def test_released_attention_scale():
    """T2T-ViT's and So-ViT's presets attend with 1 / sqrt(embed_dims), also through the
    relative-position path (with zero tables it is the plain attention); 'head_dims' gives the
    usual scale."""
    with torch.device('meta'):
        t2t, sovit, ceit = T2TViT('14'), SoViT('7'), CeiT('t')
    assert t2t.blocks[0].attn.qk_scale == 384**-0.5 and sovit.blocks[0].attn.qk_scale == 256**-0.5
    assert ceit.blocks[0].attn.qk_scale is None
    assert T2TViT(dict(SMALL, qk_scale='head_dims')).blocks[0].attn.qk_scale is None
    torch.manual_seed(0)
    attn = strong_randomize_(PlainAttention(32, 4, qk_scale=32**-0.5)).double()
    with_rel_pos = PlainAttention(32, 4, qk_scale=32**-0.5, rel_pos_length=9).double()
    with_rel_pos.load_state_dict(attn.state_dict(), strict=False)  # zero tables
    x = torch.randn(2, 20, 32, dtype=torch.float64)
    q, k, v = F.linear(x, attn.qkv.weight, attn.qkv.bias).view(2, 20, 3, 4, 8).permute(
        2, 0, 3, 1, 4)
    by_hand = ((q @ k.transpose(-2, -1)) / math.sqrt(32)).softmax(-1) @ v
    expected = F.linear(by_hand.transpose(1, 2).reshape(2, 20, 32), attn.proj.weight,
                        attn.proj.bias)
    usual = ((q @ k.transpose(-2, -1)) / math.sqrt(8)).softmax(-1) @ v
    assert (usual - by_hand).abs().max() > 0.1
    with torch.no_grad():
        torch.testing.assert_close(attn(x, (4, 5)), expected, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(with_rel_pos(x, (4, 5)), expected, rtol=1e-10, atol=1e-10)


def test_sinusoid_table_is_a_constant_resized_like_a_learned_table():
    model = T2TViT(dict(embed_dims=16, depth=1, num_heads=2), pretrain_img_size=64)
    table = model.pos_embed
    assert table.shape == (1, 1 + 4 * 4, 16) and not table.requires_grad
    assert model.constant_parameters() == {'pos_embed', 'patch_embed.attention1.random_projection',
                                           'patch_embed.attention2.random_projection'}
    assert 'pos_embed' not in model.no_weight_decay()
    expected = torch.tensor([[math.sin(p / 10000**(c / 16)) if c % 2 == 0 else
                              math.cos(p / 10000**((c - 1) / 16)) for c in range(16)]
                             for p in range(17)])
    torch.testing.assert_close(table[0], expected)
    before = table.detach().clone()
    model.init_weights()
    assert torch.equal(model.pos_embed, before)
    with torch.no_grad():
        cls_row = model.cls_token + table[:, :1]
        at_pretraining = model._add_positions(torch.zeros(1, 16, 16), (4, 4))
        assert torch.equal(at_pretraining, torch.cat([cls_row, table[:, 1:]], dim=1))
        other = model._add_positions(torch.zeros(1, 15, 16), (3, 5))
        grid = F.interpolate(table[:, 1:].reshape(1, 4, 4, 16).permute(0, 3, 1, 2), size=(3, 5),
                             mode='bicubic', align_corners=False).flatten(2).transpose(1, 2)
        torch.testing.assert_close(other, torch.cat([cls_row, grid], dim=1), rtol=0, atol=0)


def test_presets_follow_the_releases():
    with torch.device('meta'):
        t2t, t2t_t, sovit, ceit = T2TViT('14'), T2TViT('t-14'), SoViT('7'), CeiT('t-384')
    performer, transformer = t2t.patch_embed.attention1, t2t_t.patch_embed.attention1
    assert performer.random_projection.shape == (32, 64) and performer.qkv.bias is not None
    assert transformer.random_projection is None and transformer.qkv.bias is None
    assert t2t.blocks[0].attn.qkv.bias is None and sovit.blocks[0].attn.qkv.bias is None
    assert t2t.blocks[0].norm1.eps == sovit.blocks[0].norm1.eps == 1e-5
    assert ceit.blocks[0].norm1.eps == 1e-6 and ceit.blocks[0].attn.qkv.bias is not None
    assert sovit.blocks[0].mlp.fc1.out_features == 512 and t2t.blocks[0].mlp.fc1.out_features == (
        1152)
    assert ceit.pos_embed.shape == (1, 1 + 24 * 24, 192)
    ffn = ceit.blocks[0].ffn
    assert ffn.se is None and all(m.conv.bias is not None for m in (ffn.fc1, ffn.dwconv, ffn.fc2))
    assert 'GELU' in type(ffn.fc1.activate).__name__ and ceit.blocks[0].norm2 is not None
    assert ceit.patch_embed.conv.bias is None and ceit.patch_embed.proj.kernel_size == (4, 4)
    with pytest.raises(ValueError, match="'t2t-performer'"):
        T2TViT(dict(SMALL, stem='performer'))
    with pytest.raises(KeyError, match="'t-24'"):
        T2TViT('t-25')


@pytest.mark.parametrize('cls, arch', [(CeiT, 's'), (T2TViT, '14'), (SoViT, '14')])
def test_counts_of_the_dense_options(cls, arch):
    """ViTDet's settings (no class token, windows and relative-position tables) and ViTPose's
    (the final norm), as the configs build them, against spec_params's arithmetic."""
    depth = cls.arch_zoo[arch]['depth']
    for options in (dict(with_cls_token=False, window_size=14, use_rel_pos=True,
                         rel_pos_img_size=1024, out_indices=(depth - 1, )),
                    dict(with_cls_token=False, final_norm=True, out_indices=(depth - 1, )),
                    dict(out_indices=(2, 5, 8))):
        with torch.device('meta'):
            model = cls(arch, **options)
        assert num_params(model) == plain_vit_dense_params(cls.family, arch, **options), options
