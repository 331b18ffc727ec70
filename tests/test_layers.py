"""Shared layers whose fast or memory-lean formulations must equal the plain ones."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmvitx.models.backbones import FasterViT, HRFormer, MViT, PSViT
from mmvitx.models.layers import recompute
from mmvitx.models.layers import (PLAIN_OPS_ENV, ConvModuleChain, FoldedConvModule,
                                  FoldedDepthwiseSeparableConvModule, attention_with_learned_bias,
                                  batch_norm_act, decomposed_rel_pos_attention, gelu,
                                  gelu_backward, gelu_linear, inplace_add, inplace_relu,
                                  plain_ops, resize_rel_pos_table, speedups_enabled)
from mmvitx.testing.equivalence import assert_same_with_plain_ops, mmvitx_autograd_functions


@pytest.fixture(autouse=True)
def speedups_on(monkeypatch):
    """The speed-up layer, which these tests check, whatever MMVITX_PLAIN_OPS says."""
    monkeypatch.delenv(PLAIN_OPS_ENV, raising=False)


@pytest.mark.parametrize('memory_format', [torch.contiguous_format, torch.channels_last])
def test_channels_last_gelu_equals_gelu(memory_format):
    x = torch.randn(2, 5, 7, 3).contiguous(memory_format=memory_format).requires_grad_()
    out = gelu(x)
    expected = F.gelu(x)
    torch.testing.assert_close(out, expected)  # up to rounding: the vectorised kernel
    assert out.is_contiguous(memory_format=memory_format)
    grad = torch.autograd.grad(out.square().sum(), x)[0]
    torch.testing.assert_close(grad, torch.autograd.grad(expected.square().sum(), x)[0])
    upstream = torch.randn_like(x)
    manual = gelu_backward(upstream, x.detach())
    torch.testing.assert_close(manual, torch.autograd.grad(F.gelu(x), x, upstream)[0])
    assert manual.is_contiguous(memory_format=memory_format)


def explicit_rel_pos_attention(q, k, v, q_size, k_size, table_h, table_w, num_prefix):
    """MViTv2's attention as the paper writes it: softmax(q k^T / sqrt(C) + bias) v, with the
    (queries x keys) bias built pair by pair from the offsets on the finer grid."""
    channels = q.shape[-1]
    bias = torch.zeros(*q.shape[:2], q.shape[2], k.shape[2])
    tables = [resize_rel_pos_table(t, 2 * max(q_size[a], k_size[a]) - 1)
              for a, t in enumerate((table_h, table_w))]
    scales = [(max(k_size[a] / q_size[a], 1.), max(q_size[a] / k_size[a], 1.)) for a in (0, 1)]
    for i in range(q_size[0] * q_size[1]):
        qpos = divmod(i, q_size[1])
        for j in range(k_size[0] * k_size[1]):
            kpos = divmod(j, k_size[1])
            for axis in (0, 1):
                qs, ks = scales[axis]
                row = int(qpos[axis] * qs - kpos[axis] * ks + (k_size[axis] - 1) * ks)
                bias[:, :, num_prefix + i, num_prefix + j] += (
                    q[:, :, num_prefix + i] * tables[axis][row]).sum(-1)
    attn = (q @ k.transpose(-2, -1) * channels**-0.5 + bias).softmax(-1)
    return attn @ v


@pytest.mark.parametrize('layout', ['contiguous', 'tokens-major'])
@pytest.mark.parametrize('blocks', ['one', 'many'])
@pytest.mark.parametrize('q_size, k_size, num_prefix', [
    ((4, 6), (2, 3), 0),  # pooled keys, rectangular
    ((3, 3), (3, 3), 1),  # a class token, no pooling
    ((2, 2), (4, 4), 0),  # pooled queries
])
def test_decomposed_rel_pos_attention_equals_explicit_bias(q_size, k_size, num_prefix, blocks,
                                                           layout, monkeypatch):
    """Inference and gradients; the (queries x keys) bias is built for blocks of query rows
    ('many': a few rows per block, as at high resolution); q, k and v contiguous or (B, N, heads,
    C) transposed, as a projection's output is before pooling."""
    if blocks == 'many':
        monkeypatch.setattr(recompute, '_CHUNK_ELEMENTS', 2 * 2 * 3 * 16)
    torch.manual_seed(0)
    heads, channels = 2, 8

    def tokens(num):
        if layout == 'contiguous':
            return torch.randn(2, heads, num, channels, requires_grad=True)
        return torch.randn(2, num, heads, channels).transpose(1, 2).requires_grad_()

    q = tokens(num_prefix + q_size[0] * q_size[1])
    k = tokens(num_prefix + k_size[0] * k_size[1])
    v = tokens(num_prefix + k_size[0] * k_size[1])
    # Tables trained at another size: the interpolation is part of what is compared.
    table_h = torch.randn(5, channels, requires_grad=True)
    table_w = torch.randn(9, channels, requires_grad=True)
    inputs = (q, k, v, table_h, table_w)
    out = decomposed_rel_pos_attention(q, k, v, q_size, k_size, table_h, table_w, num_prefix)
    expected = explicit_rel_pos_attention(q, k, v, q_size, k_size, table_h, table_w, num_prefix)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-4)
    with torch.no_grad():
        torch.testing.assert_close(decomposed_rel_pos_attention(
            q, k, v, q_size, k_size, table_h, table_w, num_prefix), expected, atol=1e-5, rtol=1e-4)
    weights = torch.randn_like(out)
    grads = torch.autograd.grad((out * weights).sum(), inputs)
    expected_grads = torch.autograd.grad((expected * weights).sum(), inputs)
    for grad, expected_grad in zip(grads, expected_grads):
        torch.testing.assert_close(grad, expected_grad, atol=1e-5, rtol=1e-4)


def randomise_batchnorms(module):
    for bn in module.modules():
        if isinstance(bn, _BatchNorm):
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2)
            if bn.affine:
                nn.init.normal_(bn.weight)
                nn.init.normal_(bn.bias)


@pytest.mark.parametrize('conv_bias, affine, act, memory_format', [
    (False, True, 'ReLU', torch.contiguous_format),
    (True, True, 'ReLU', torch.channels_last),  # oneDNN applies the ReLU in eval
    (True, True, 'GELU', torch.channels_last),  # and the GELU
    (False, False, 'ReLU', torch.contiguous_format),
])
def test_folded_conv_module_equals_conv_module(conv_bias, affine, act, memory_format):
    """Same keys, and the same outputs as mmcv's ConvModule in eval (no BatchNorm pass; on
    channels-last maps the activation fused into the convolution) and in training (normalising
    with batch statistics); gradients reach the conv and BN parameters when the BatchNorm is
    frozen (norm_eval) but they are trained."""
    torch.manual_seed(0)
    kwargs = dict(padding=1, bias=conv_bias, norm_cfg=dict(type='BN', affine=affine),
                  act_cfg=dict(type=act))
    folded, plain = FoldedConvModule(4, 6, 3, **kwargs), ConvModule(4, 6, 3, **kwargs)
    randomise_batchnorms(folded)
    assert folded.state_dict().keys() == plain.state_dict().keys()
    plain.load_state_dict(folded.state_dict())
    bn_calls = []
    folded.bn.register_forward_hook(lambda *_: bn_calls.append(1))
    x = torch.randn(2, 4, 9, 7).contiguous(memory_format=memory_format)
    with torch.no_grad():
        torch.testing.assert_close(folded.eval()(x), plain.eval()(x))
        cached = folded._folded
        folded(x)
        assert folded._folded is cached and not bn_calls  # folded once, then reused
    x.requires_grad_()
    outs = [m(x) for m in (folded, plain)]  # BN in eval, parameters trained: norm_eval
    grads = [torch.autograd.grad(o.square().sum(), [x, *m.parameters()])
             for o, m in zip(outs, (folded, plain))]
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(folded.train()(x), plain.train()(x))
    assert bn_calls


def test_folded_conv_module_sees_new_weights():
    """Cached folded weights follow fused optimizer steps (which bump no tensor version) across
    train()/eval(), and a load_state_dict in eval mode."""
    torch.manual_seed(0)
    module = FoldedConvModule(3, 5, 1, norm_cfg=dict(type='BN'))
    optimizer = torch.optim.AdamW(module.parameters(), lr=0.1, fused=True)
    x = torch.randn(4, 3, 5, 5)

    def expected():
        bn = module.bn
        y = F.conv2d(x, module.conv.weight, module.conv.bias)
        y = F.batch_norm(y, bn.running_mean, bn.running_var, bn.weight, bn.bias, eps=bn.eps)
        return y.relu()

    with torch.no_grad():
        module.eval()(x)
    module.train()(x).sum().backward()
    optimizer.step()
    with torch.no_grad():
        torch.testing.assert_close(module.eval()(x), expected())
        state = {k: v + 1 if v.is_floating_point() else v for k, v in module.state_dict().items()}
        module.load_state_dict(state)
        torch.testing.assert_close(module(x), expected())


def test_folded_depthwise_separable_equals_mmcv():
    torch.manual_seed(0)
    kwargs = dict(stride=2, padding=1, norm_cfg=dict(type='BN'), dw_act_cfg=None)
    folded = FoldedDepthwiseSeparableConvModule(4, 8, 3, **kwargs)
    plain = DepthwiseSeparableConvModule(4, 8, 3, **kwargs)
    randomise_batchnorms(folded)
    assert folded.state_dict().keys() == plain.state_dict().keys()
    plain.load_state_dict(folded.state_dict())
    x = torch.randn(2, 4, 11, 9)
    for mode in (False, True):
        torch.testing.assert_close(folded.train(mode)(x), plain.train(mode)(x))


def saved_bytes(fn, *inputs):
    """Bytes of the distinct storages that autograd keeps for the backward of ``fn(*inputs)``,
    leaving out the inputs' own."""
    storages = {}

    def pack(tensor):
        storages[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = fn(*inputs)
    for tensor in inputs:
        if isinstance(tensor, torch.Tensor):
            storages.pop(tensor.untyped_storage().data_ptr(), None)
    return out, sum(storages.values())


def assert_same_values_and_grads(lean, plain, inputs, atol=1e-5, rtol=1e-4):
    (out, lean_bytes), (expected, plain_bytes) = (saved_bytes(f, *inputs) for f in (lean, plain))
    torch.testing.assert_close(out, expected, atol=atol, rtol=rtol)
    weights = torch.randn_like(out)
    grads = torch.autograd.grad((out * weights).sum(), inputs)
    expected_grads = torch.autograd.grad((expected * weights).sum(), inputs)
    for grad, expected_grad in zip(grads, expected_grads):
        torch.testing.assert_close(grad, expected_grad, atol=atol, rtol=rtol)
    return lean_bytes, plain_bytes


@pytest.mark.parametrize('blocks', ['one', 'many'])
@pytest.mark.parametrize('batch_bias', [False, True])
def test_attention_with_learned_bias_keeps_less(batch_bias, blocks, monkeypatch):
    """Same output and gradients (the bias's, summed over the windows that share it, included)
    as softmax(q k^T / sqrt(C) + bias) v, keeping nothing but its inputs, where SDPA with a
    bias needing a gradient keeps the (tokens x tokens) attention probabilities. The backward
    recomputes them for all query rows at once or ('many') for blocks of 10 rows."""
    if blocks == 'many':
        monkeypatch.setattr(recompute, '_CHUNK_ELEMENTS', 12 * 2 * 10 * 49)
    torch.manual_seed(0)
    windows, heads, tokens, channels = 12, 2, 49, 8
    q, k, v = (torch.randn(windows, heads, tokens, channels, requires_grad=True)
               for _ in range(3))
    bias = torch.randn(windows if batch_bias else 1, heads, tokens, tokens, requires_grad=True)

    def explicit(q, k, v, bias):
        return (q @ k.transpose(-2, -1) * channels**-0.5 + bias).softmax(-1) @ v

    lean_bytes, _ = assert_same_values_and_grads(attention_with_learned_bias, explicit,
                                                 (q, k, v, bias))
    assert lean_bytes == 0
    _, sdpa_bytes = saved_bytes(lambda *t: F.scaled_dot_product_attention(*t[:3], attn_mask=t[3]),
                                q, k, v, bias)
    assert sdpa_bytes >= windows * heads * tokens * tokens * 4


ACTIVATIONS = {'gelu': F.gelu, 'relu': F.relu, None: lambda t: t}


@pytest.mark.parametrize('activation, with_conv, momentum, memory_format', [
    ('gelu', False, 0.1, torch.contiguous_format),
    ('gelu', False, None, torch.channels_last),  # cumulative averaging
    ('gelu', True, 0.1, torch.channels_last),
    ('relu', True, 0.1, torch.channels_last),
    (None, True, None, torch.contiguous_format),
])
def test_batch_norm_act_keeps_only_the_input(activation, with_conv, momentum, memory_format):
    """A training BatchNorm, its activation and the next convolution: same output, gradients and
    running statistics as the plain modules, and only the BatchNorm's input kept: no normalised
    or activated map."""
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(6, momentum=momentum)
    randomise_batchnorms(bn)
    conv = nn.Conv2d(6, 4, 3, stride=2, padding=1, groups=2) if with_conv else None
    plain_bn, plain_conv = copy.deepcopy(bn), copy.deepcopy(conv)
    x = torch.randn(3, 6, 9, 7).contiguous(memory_format=memory_format).requires_grad_()
    params = [bn.weight, bn.bias] + ([conv.weight, conv.bias] if with_conv else [])
    plain_params = [plain_bn.weight, plain_bn.bias]
    if with_conv:
        plain_params += [plain_conv.weight, plain_conv.bias]
        conv, plain_conv = conv.to(memory_format=memory_format), plain_conv.to(
            memory_format=memory_format)

    def plain(t):
        out = ACTIVATIONS[activation](plain_bn(t))
        return plain_conv(out) if with_conv else out

    for _ in range(2):  # the second call updates the statistics from non-initial values
        out, lean_bytes = saved_bytes(batch_norm_act, x, bn, activation, conv)
        expected, plain_bytes = saved_bytes(plain, x)
        torch.testing.assert_close(out, expected)
        weights = torch.randn_like(out)
        grads = torch.autograd.grad((out * weights).sum(), [x] + params)
        expected_grads = torch.autograd.grad((expected * weights).sum(), [x] + plain_params)
        for grad, expected_grad in zip(grads, expected_grads):
            torch.testing.assert_close(grad, expected_grad, atol=1e-5, rtol=1e-4)
        for name in ('running_mean', 'running_var', 'num_batches_tracked'):
            torch.testing.assert_close(getattr(bn, name), getattr(plain_bn, name))
    assert out.is_contiguous(memory_format=memory_format)
    params_bytes = sum(p.numel() * 4 for p in params)
    assert lean_bytes <= params_bytes + 2 * 6 * 4  # parameters and batch statistics
    assert plain_bytes >= x.numel() * 4  # the normalised map (and the activated one)
    bn.eval(), plain_bn.eval()
    with torch.no_grad():  # eval: the running statistics, as the module itself
        torch.testing.assert_close(batch_norm_act(x, bn, activation, conv), plain(x))


def test_gelu_linear_keeps_only_the_input():
    torch.manual_seed(0)
    linear = nn.Linear(16, 5)
    x = torch.randn(4, 7, 16, requires_grad=True)
    lean_bytes, plain_bytes = assert_same_values_and_grads(
        lambda t, *_: gelu_linear(t, linear), lambda t, *_: linear(F.gelu(t)),
        (x, linear.weight, linear.bias))
    assert lean_bytes == 0 and plain_bytes >= x.numel() * 4
    # Under autocast it computes in the autocast dtype, as the plain ops do.
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = gelu_linear(x, linear)
        expected = linear(F.gelu(x))
    assert out.dtype == expected.dtype == torch.bfloat16
    torch.testing.assert_close(out, expected)
    grads = torch.autograd.grad(out.float().sum(), (x, linear.weight))
    expected_grads = torch.autograd.grad(expected.float().sum(), (x, linear.weight))
    for grad, expected_grad in zip(grads, expected_grads):
        assert grad.dtype == expected_grad.dtype == torch.float32
        torch.testing.assert_close(grad, expected_grad, atol=0.05, rtol=0.02)


def test_batch_norm_act_and_attention_under_autocast():
    """Under CPU autocast (bfloat16) the lean paths compute in the autocast dtype like the plain
    ops, and their gradients reach the float32 parameters in float32."""
    torch.manual_seed(0)
    bn, conv = nn.BatchNorm2d(6), nn.Conv2d(6, 4, 3, padding=1)
    plain_bn, plain_conv = copy.deepcopy(bn), copy.deepcopy(conv)
    x = torch.randn(2, 6, 8, 8, requires_grad=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = batch_norm_act(x, bn, 'gelu', conv)
        expected = plain_conv(F.gelu(plain_bn(x)))
    assert out.dtype == expected.dtype == torch.bfloat16
    torch.testing.assert_close(out, expected, atol=0.05, rtol=0.02)
    grads = torch.autograd.grad(out.float().sum(), (x, conv.weight, bn.weight))
    expected_grads = torch.autograd.grad(expected.float().sum(),
                                         (x, plain_conv.weight, plain_bn.weight))
    for grad, expected_grad in zip(grads, expected_grads):
        assert grad.dtype == torch.float32
        torch.testing.assert_close(grad, expected_grad, atol=0.05, rtol=0.05)

    q, k, v = (torch.randn(3, 2, 16, 8, dtype=torch.bfloat16, requires_grad=True)
               for _ in range(3))
    bias = torch.randn(1, 2, 16, 16, dtype=torch.bfloat16, requires_grad=True)
    out = attention_with_learned_bias(q, k, v, bias)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    torch.testing.assert_close(out, expected, atol=0.02, rtol=0.02)
    for grad, expected_grad in zip(torch.autograd.grad(out.float().sum(), (q, k, v, bias)),
                                   torch.autograd.grad(expected.float().sum(), (q, k, v, bias))):
        assert grad.dtype == torch.bfloat16
        torch.testing.assert_close(grad, expected_grad, atol=0.05, rtol=0.05)


@pytest.mark.parametrize('how', ['environment', 'context manager'])
def test_plain_ops_switch(how, monkeypatch):
    """MMVITX_PLAIN_OPS (read at each call) and plain_ops() (nesting; plain_ops(False) overrides
    the variable) turn the speed-up layer off and on."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 2, 9, 4, requires_grad=True) for _ in range(3))
    bias = torch.randn(1, 2, 9, 9, requires_grad=True)

    def functions():
        return mmvitx_autograd_functions([attention_with_learned_bias(q, k, v, bias)])

    assert speedups_enabled() and functions() == {'_LearnedBiasAttention'}
    if how == 'environment':
        for value, enabled in [('1', False), ('0', True), ('', True), ('true', False)]:
            monkeypatch.setenv(PLAIN_OPS_ENV, value)
            assert speedups_enabled() is enabled
        monkeypatch.setenv(PLAIN_OPS_ENV, '1')
        assert not functions()
        with plain_ops(False):
            assert speedups_enabled() and functions()
        assert not speedups_enabled()
    else:
        with plain_ops():
            assert not speedups_enabled() and not functions()
            with plain_ops(False):
                assert speedups_enabled() and functions()
            assert not speedups_enabled()
        assert speedups_enabled()


def assert_plain_equals_fast(fn, tensors, functions=(), atol=1e-5, rtol=1e-4):
    """``fn(*tensors)`` with and without the speed-up layer: the same output (without and with
    autograd) and gradients; the speed-up layer runs exactly the mmvitx autograd ``functions``,
    the plain ops none."""
    results = []
    for plain in (False, True):
        with plain_ops(plain):
            with torch.no_grad():
                inference = fn(*tensors)
            out = fn(*tensors)
        weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(0))
        grads = torch.autograd.grad((out * weights).sum(), tensors)
        results.append((inference, out, grads, mmvitx_autograd_functions([out])))
    (inference, out, grads, used), (plain_inference, plain_out, plain_grads, plain_used) = results
    assert used == set(functions) and not plain_used
    torch.testing.assert_close(inference, plain_inference, atol=atol, rtol=rtol)
    torch.testing.assert_close(out, plain_out, atol=atol, rtol=rtol)
    for grad, plain_grad in zip(grads, plain_grads, strict=True):
        torch.testing.assert_close(grad, plain_grad, atol=atol, rtol=rtol)


def speedup_op_case(name):
    """(fn, tensors: its inputs and the parameters it uses, mmvitx autograd functions it runs)."""
    torch.manual_seed(0)
    if name == 'learned-bias attention':
        tensors = [torch.randn(6, 2, 16, 8, requires_grad=True) for _ in range(3)]
        tensors.append(torch.randn(1, 2, 16, 16, requires_grad=True))
        return attention_with_learned_bias, tensors, {'_LearnedBiasAttention'}
    if name == 'decomposed-bias attention':
        tensors = [torch.randn(2, 2, 1 + 12, 8, requires_grad=True) for _ in range(3)]
        tensors += [torch.randn(2, 2, 13, 3, requires_grad=True),
                    torch.randn(2, 2, 13, 4, requires_grad=True)]
        return (lambda *t: recompute.attention_with_decomposed_bias(*t, num_prefix=1), tensors,
                {'_DecomposedBiasAttention'})
    if name == 'batch norm, activation, conv':
        bn, conv = nn.BatchNorm2d(6), nn.Conv2d(6, 4, 3, padding=1)
        randomise_batchnorms(bn)
        x = torch.randn(2, 6, 7, 5).contiguous(memory_format=torch.channels_last)
        return (lambda t, *_: batch_norm_act(t, bn, 'gelu', conv),
                [x.requires_grad_(), *bn.parameters(), *conv.parameters()], {'_BatchNormAct'})
    if name == 'gelu, linear':
        linear = nn.Linear(16, 5)
        return (lambda t, *_: gelu_linear(t, linear),
                [torch.randn(3, 7, 16, requires_grad=True), *linear.parameters()], {'_GELULinear'})
    if name == 'channels-last gelu':
        x = torch.randn(2, 5, 7, 3).contiguous(memory_format=torch.channels_last)
        return gelu, [x.requires_grad_()], set()
    if name.startswith('conv chain'):
        chain = ConvModuleChain(
            FoldedConvModule(4, 8, 1, norm_cfg=dict(type='BN'), act_cfg=dict(type='GELU')),
            FoldedConvModule(8, 8, 3, padding=1, groups=8, norm_cfg=dict(type='BN')),
            FoldedConvModule(8, 4, 1, norm_cfg=dict(type='BN'), act_cfg=None))
        randomise_batchnorms(chain)
        chain.train(name.endswith('train'))
        x = torch.randn(2, 4, 9, 7).contiguous(memory_format=torch.channels_last)
        return (lambda t, *_: chain(t), [x.requires_grad_(), *chain.parameters()],
                {'_BatchNormAct'} if chain.training else set())
    assert name == 'in-place sums'
    tensors = [torch.randn(3, 5, requires_grad=True) for _ in range(3)]
    # Onto a fresh tensor, as the residual sums are.
    return (lambda a, b, c: inplace_relu(inplace_add(inplace_add(a * 2, b), c)), tensors, set())


@pytest.mark.parametrize('name', [
    'learned-bias attention', 'decomposed-bias attention', 'batch norm, activation, conv',
    'gelu, linear', 'channels-last gelu', 'conv chain, train', 'conv chain, eval',
    'in-place sums'])
def test_speedup_op_equals_plain_ops(name):
    """Every op of the speed-up layer computes what the plain ops compute, with and without
    autograd ('conv chain, eval': the folded convolutions and, without autograd, the activation
    fused into them)."""
    assert_plain_equals_fast(*speedup_op_case(name))


BACKBONES = {
    'hrformer': (HRFormer, dict(channels=(8, 16, 32, 64), num_heads=(1, 2, 4, 8),
                                num_modules=(1, 1, 1, 1), num_blocks=1, mlp_ratio=2)),
    'fastervit': (FasterViT, dict(embed_dims=16, stem_dims=8, depths=(1, 1, 2, 2),
                                  num_heads=(2, 2, 4, 4), layer_scale=1e-5, propagation=True)),
    'mvit': (MViT, dict(embed_dims=16, num_heads=1, depths=(1, 2, 2, 1))),
    'psvit': (PSViT, dict(embed_dims=(16, 32, 64), num_heads=(1, 2, 4),
                          layers=('BS', 'BS', 'B'))),
}
# What the speed-up layer runs in each, in training mode; in eval mode no BatchNorm trains.
BACKBONE_FUNCTIONS = {
    'hrformer': {'_LearnedBiasAttention', '_BatchNormAct'},
    'fastervit': {'_LearnedBiasAttention', '_BatchNormAct', '_GELULinear'},
    'mvit': {'_DecomposedBiasAttention', '_GELULinear'},
    'psvit': {'_GELULinear'},
}


@pytest.mark.parametrize('mode', ['train', 'eval'])
@pytest.mark.parametrize('family', list(BACKBONES))
def test_backbone_same_with_plain_ops(family, mode):
    """A whole small backbone (drop path on) gives the same outputs, gradients and BatchNorm
    statistics with the speed-up layer as with the plain ops."""
    torch.manual_seed(0)
    backbone, arch = BACKBONES[family]
    model = backbone(arch, drop_path_rate=0.1)
    model.init_weights()
    randomise_batchnorms(model)
    model.train(mode == 'train')
    used = assert_same_with_plain_ops(model, torch.randn(2, 3, 64, 64))
    expected = BACKBONE_FUNCTIONS[family]
    assert used == (expected if mode == 'train' else expected - {'_BatchNormAct'})
