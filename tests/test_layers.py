"""Shared layers whose fast formulations must equal the plain ones."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmvitx.models.layers import (ChannelsLastGELU, FoldedConvModule,
                                  FoldedDepthwiseSeparableConvModule, decomposed_rel_pos_attention,
                                  resize_rel_pos_table)


@pytest.mark.parametrize('memory_format', [torch.contiguous_format, torch.channels_last])
def test_channels_last_gelu_equals_gelu(memory_format):
    x = torch.randn(2, 5, 7, 3).contiguous(memory_format=memory_format).requires_grad_()
    out = ChannelsLastGELU()(x)
    expected = nn.GELU()(x)
    torch.testing.assert_close(out, expected)  # up to rounding: the vectorised kernel
    assert out.is_contiguous(memory_format=memory_format)
    grad = torch.autograd.grad(out.square().sum(), x)[0]
    torch.testing.assert_close(grad, torch.autograd.grad(expected.square().sum(), x)[0])


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


@pytest.mark.parametrize('q_size, k_size, num_prefix', [
    ((4, 6), (2, 3), 0),  # pooled keys, rectangular
    ((3, 3), (3, 3), 1),  # a class token, no pooling
    ((2, 2), (4, 4), 0),  # pooled queries
])
def test_decomposed_rel_pos_attention_equals_explicit_bias(q_size, k_size, num_prefix):
    torch.manual_seed(0)
    heads, channels = 2, 8
    q = torch.randn(2, heads, num_prefix + q_size[0] * q_size[1], channels, requires_grad=True)
    k = torch.randn(2, heads, num_prefix + k_size[0] * k_size[1], channels, requires_grad=True)
    v = torch.randn_like(k, requires_grad=True)
    # Tables trained at another size: the interpolation is part of what is compared.
    table_h = torch.randn(5, channels, requires_grad=True)
    table_w = torch.randn(9, channels, requires_grad=True)
    inputs = (q, k, v, table_h, table_w)
    out = decomposed_rel_pos_attention(q, k, v, q_size, k_size, table_h, table_w, num_prefix)
    expected = explicit_rel_pos_attention(q, k, v, q_size, k_size, table_h, table_w, num_prefix)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-4)
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


@pytest.mark.parametrize('conv_bias,affine', [(False, True), (True, True), (False, False)])
def test_folded_conv_module_equals_conv_module(conv_bias, affine):
    """Same keys, and the same outputs as mmcv's ConvModule in eval (no BatchNorm pass) and in
    training (normalising with batch statistics); gradients reach the conv and BN parameters
    when the BatchNorm is frozen (norm_eval) but they are trained."""
    torch.manual_seed(0)
    kwargs = dict(padding=1, bias=conv_bias, norm_cfg=dict(type='BN', affine=affine))
    folded, plain = FoldedConvModule(4, 6, 3, **kwargs), ConvModule(4, 6, 3, **kwargs)
    randomise_batchnorms(folded)
    assert folded.state_dict().keys() == plain.state_dict().keys()
    plain.load_state_dict(folded.state_dict())
    bn_calls = []
    folded.bn.register_forward_hook(lambda *_: bn_calls.append(1))
    x = torch.randn(2, 4, 9, 7)
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
