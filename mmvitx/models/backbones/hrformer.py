"""HRFormer: High-Resolution Transformer for Dense Prediction (Yuan et al., NeurIPS 2021).

HRNet's multi-resolution design with transformer blocks: a convolutional stem and stage 1, then
stages 2-4 of modules in which every resolution branch runs local-window self-attention blocks
(with a depthwise-convolution FFN) and the branches exchange information through fuse layers.
"""
import re
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmengine.model.weight_init import constant_init, kaiming_init, trunc_normal_init
from torch.nn.modules.batchnorm import _BatchNorm

from ..layers import (ConvModuleChain, DepthwiseConvFFN, FoldedConvModule,
                      FoldedDepthwiseSeparableConvModule, LocalWindowSelfAttention,
                      WindowMultiheadAttention, inplace_add, inplace_relu, run_conv_chain)
from ..pretrained import register_converter
from .base import DenseBackbone, check_outputs_and_freezing, register_backbone

# Per-branch channels and heads of stages 2-4 (branch k exists from stage k+1 on), and modules per
# stage 1-4. Every module runs `num_blocks` blocks per branch; stage 1 is `num_blocks` bottlenecks.
arch_zoo = {
    't': dict(channels=(18, 36, 72, 144), num_heads=(1, 2, 4, 8), num_modules=(1, 1, 3, 2)),
    's': dict(channels=(32, 64, 128, 256), num_heads=(1, 2, 4, 8), num_modules=(1, 1, 4, 2)),
    'b': dict(channels=(78, 156, 312, 624), num_heads=(2, 4, 8, 16), num_modules=(1, 1, 4, 2)),
}
arch_aliases = {'tiny': 't', 'small': 's', 'base': 'b'}
arch_defaults = dict(num_blocks=2, window_size=7, mlp_ratio=4)

STEM_CHANNELS = 64
BOTTLENECK_EXPANSION = 4


class Bottleneck(nn.Module):
    """ResNet bottleneck of HRFormer's convolutional stage 1."""

    def __init__(self, in_channels: int, planes: int, norm_cfg: dict):
        super().__init__()
        out_channels = planes * BOTTLENECK_EXPANSION
        self.conv1 = FoldedConvModule(in_channels, planes, 1, bias=False, norm_cfg=norm_cfg)
        self.conv2 = FoldedConvModule(planes, planes, 3, padding=1, bias=False, norm_cfg=norm_cfg)
        self.conv3 = FoldedConvModule(planes, out_channels, 1, bias=False, norm_cfg=norm_cfg,
                                      act_cfg=None)
        self.downsample = None
        if in_channels != out_channels:
            self.downsample = FoldedConvModule(in_channels, out_channels, 1, bias=False,
                                               norm_cfg=norm_cfg, act_cfg=None)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = run_conv_chain(x, (self.conv1, self.conv2, self.conv3))
        # In place on fresh outputs, which their backward does not need.
        return inplace_relu(inplace_add(out, identity))


class HRFormerBlock(nn.Module):
    """Local-window self-attention then depthwise-conv FFN, both pre-norm residual (B, C, H, W)."""

    def __init__(self, channels: int, num_heads: int, window_size: int, mlp_ratio: float,
                 drop_path: float, norm_cfg: dict, transformer_norm_cfg: dict,
                 with_cp: bool = False):
        super().__init__()
        self.with_cp = with_cp
        self.norm1 = build_norm_layer(transformer_norm_cfg, channels)[1]
        # Centred padding: the paper's code pads windows symmetrically.
        self.attn = LocalWindowSelfAttention(channels, num_heads, window_size,
                                             centered_padding=True)
        self.norm2 = build_norm_layer(transformer_norm_cfg, channels)[1]
        self.ffn = DepthwiseConvFFN(channels, int(channels * mlp_ratio), norm_cfg)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def _forward(self, x):
        # Residual sums in place on the branches' fresh outputs (see Bottleneck.forward).
        x = x.permute(0, 2, 3, 1)
        attn_out = self.drop_path(self.attn(self.norm1(x)))
        attn_out = inplace_add(attn_out, x)
        ffn_out = self.drop_path(self.ffn(self.norm2(attn_out).permute(0, 3, 1, 2)))
        return inplace_add(ffn_out, attn_out.permute(0, 3, 1, 2))

    def forward(self, x):
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)


class HRFormerModule(nn.Module):
    """Parallel branches of HRFormer blocks followed by the multi-resolution fuse layers.

    Fuse into branch i: from a lower resolution j > i a 1x1 conv + BN, then bilinear resizing to
    branch i's exact size (so odd sizes work); from a higher resolution j < i a chain of i - j
    depthwise-separable stride-2 downsamplers (ReLU between steps only); sum, then ReLU.

    Args:
        fused_branches: branches whose fused output is computed (all, except in the network's
            last module when only some resolutions are output).
    """

    def __init__(self, channels, num_heads, window_sizes, mlp_ratios, num_blocks, drop_paths,
                 fused_branches, norm_cfg, transformer_norm_cfg, upsample_cfg, with_cp=False):
        super().__init__()
        self.upsample_cfg = upsample_cfg
        self.branches = nn.ModuleList(
            nn.Sequential(*(HRFormerBlock(c, heads, window, mlp, drop_paths[k], norm_cfg,
                                          transformer_norm_cfg, with_cp)
                            for k in range(num_blocks)))
            for c, heads, window, mlp in zip(channels, num_heads, window_sizes, mlp_ratios))
        self.fuse_layers = nn.ModuleDict({
            str(i): nn.ModuleList(self._fuse_path(channels, j, i, norm_cfg)
                                  for j in range(len(channels)))
            for i in fused_branches
        })

    @staticmethod
    def _fuse_path(channels, src, dst, norm_cfg):
        if src == dst:
            return nn.Identity()
        if src > dst:
            return FoldedConvModule(channels[src], channels[dst], 1, bias=False,
                                    norm_cfg=norm_cfg, act_cfg=None)
        steps = dst - src
        return nn.Sequential(*(FoldedDepthwiseSeparableConvModule(
            channels[src], channels[dst] if step == steps - 1 else channels[src], 3, stride=2,
            padding=1, norm_cfg=norm_cfg, dw_act_cfg=None,
            pw_act_cfg=None if step == steps - 1 else dict(type='ReLU'))
            for step in range(steps)))

    def forward(self, inputs: list[torch.Tensor]) -> list[torch.Tensor | None]:
        feats = [branch(x) for branch, x in zip(self.branches, inputs)]
        outputs = [None] * len(feats)
        for dst, paths in self.fuse_layers.items():
            dst = int(dst)
            # Summed in place into the first fresh contribution (every module has 2+ branches);
            # the branch's own output is read by the other fuse paths, so it is added last.
            fused = None
            for src, (path, feat) in enumerate(zip(paths, feats)):
                if src == dst:
                    continue
                contribution = path(feat)
                if src > dst:
                    contribution = F.interpolate(contribution, size=feats[dst].shape[-2:],
                                                 **self.upsample_cfg)
                fused = contribution if fused is None else inplace_add(fused, contribution)
            outputs[dst] = inplace_relu(inplace_add(fused, feats[dst]))
        return outputs


@register_backbone
class HRFormer(DenseBackbone):
    """HRFormer backbone (`arXiv 2110.09408 <https://arxiv.org/abs/2110.09408>`_).

    Args:
        arch: ``'t'``, ``'s'``, ``'b'`` (or ``'tiny'``, ``'small'``, ``'base'``), or a dict with
            ``channels`` and ``num_heads`` (4 branches), ``num_modules`` (4 stages) and optionally
            ``num_blocks`` (2), ``window_size`` (7, or one per branch) and ``mlp_ratio`` (4).
        in_channels: input image channels.
        out_indices: branches to output, 0-3 at strides 4/8/16/32. ``(0, 1, 2, 3)`` for detection
            and segmentation; ``(0,)`` for pose, where the last module then fuses only the
            highest-resolution branch (as the paper's pose models do).
        drop_path_rate: stochastic depth, linear over the blocks of one branch of stages 2-4.
        frozen_stages: freeze the stem (0) and stages 1..k (with their transitions); -1 freezes
            nothing.
        norm_eval: keep BatchNorm layers in eval mode (frozen statistics) during training.
        with_cp: activation checkpointing of every transformer block (saves memory).
        norm_cfg: norm of the convolutions (stem, stage 1, transitions, fuse layers, FFN).
        transformer_norm_cfg: pre-norm of the attention and FFN sub-blocks.
        upsample_cfg: interpolation used by the fuse layers.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH)`` loads a local checkpoint (official,
            mmpose or mmvitx layout, converted on load); otherwise the paper's initialisation.
    """

    family = 'hrformer'
    arch_zoo = arch_zoo
    arch_aliases = arch_aliases
    default_arch = 's'
    arch_required = frozenset({'channels', 'num_heads', 'num_modules'})
    arch_defaults = arch_defaults
    no_weight_decay_keys = ('relative_position_bias_table', )
    reference = 'mmvitx.testing.references:build_hrformer_pair'

    def __init__(self,
                 arch: str | dict = default_arch,
                 in_channels: int = 3,
                 out_indices: tuple[int, ...] = (0, 1, 2, 3),
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 transformer_norm_cfg: dict = dict(type='LN', eps=1e-6),
                 upsample_cfg: dict = dict(mode='bilinear', align_corners=False),
                 init_cfg: dict | None = None):
        super().__init__(init_cfg=init_cfg)
        self.arch = self.resolve_arch(arch)
        channels = self.arch['channels']
        out_indices = check_outputs_and_freezing(out_indices, frozen_stages, unit='branch')
        self.out_indices = out_indices
        self.num_features = tuple(channels)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        num_modules, num_blocks = self.arch['num_modules'], self.arch['num_blocks']
        window_sizes = self.arch['window_size']
        if isinstance(window_sizes, int):
            window_sizes = (window_sizes, ) * 4
        mlp_ratio = self.arch['mlp_ratio']

        self.stem = ConvModuleChain(
            FoldedConvModule(in_channels, STEM_CHANNELS, 3, stride=2, padding=1, bias=False,
                             norm_cfg=norm_cfg),
            FoldedConvModule(STEM_CHANNELS, STEM_CHANNELS, 3, stride=2, padding=1, bias=False,
                             norm_cfg=norm_cfg))
        stage1_channels = STEM_CHANNELS * BOTTLENECK_EXPANSION
        stage1 = nn.Sequential(*(
            Bottleneck(STEM_CHANNELS if k == 0 else stage1_channels, STEM_CHANNELS, norm_cfg)
            for k in range(num_blocks * num_modules[0])))

        # Stochastic depth grows over the depth of one branch; the branches of a module share it.
        depths = [num_blocks * n for n in num_modules[1:]]
        rates = torch.linspace(0, drop_path_rate, sum(depths), device='cpu').tolist()

        self.transitions = nn.ModuleList()
        self.stages = nn.ModuleList([stage1])
        prev_channels = [stage1_channels]
        for stage in range(1, 4):
            num_branches = stage + 1
            stage_channels = channels[:num_branches]
            self.transitions.append(self._make_transition(prev_channels, stage_channels, norm_cfg))
            stage_rates = rates[sum(depths[:stage - 1]):sum(depths[:stage])]
            modules = []
            for m in range(num_modules[stage]):
                last = stage == 3 and m == num_modules[stage] - 1
                modules.append(HRFormerModule(
                    stage_channels, self.arch['num_heads'][:num_branches],
                    window_sizes[:num_branches], (mlp_ratio, ) * num_branches, num_blocks,
                    stage_rates[m * num_blocks:(m + 1) * num_blocks],
                    fused_branches=out_indices if last else range(num_branches),
                    norm_cfg=norm_cfg, transformer_norm_cfg=transformer_norm_cfg,
                    upsample_cfg=upsample_cfg, with_cp=with_cp))
            self.stages.append(nn.Sequential(*modules))
            prev_channels = stage_channels
        self._finish_init()

    def keys_not_built(self) -> tuple[str, ...]:
        # The last module fuses only into the branches that are output.
        last = len(self.stages[3]) - 1
        return tuple(rf'stages\.3\.{last}\.fuse_layers\.{i}\.' for i in range(4)
                     if i not in self.out_indices)

    @staticmethod
    def _make_transition(prev_channels, channels, norm_cfg):
        """Adapt the previous stage's branches (3x3 conv where channels change) and spawn the new
        lowest-resolution branch from the last one with a stride-2 3x3 conv."""
        layers = nn.ModuleList()
        for i, c in enumerate(channels):
            if i < len(prev_channels):
                layers.append(nn.Identity() if prev_channels[i] == c else FoldedConvModule(
                    prev_channels[i], c, 3, padding=1, bias=False, norm_cfg=norm_cfg))
            else:
                layers.append(FoldedConvModule(prev_channels[-1], c, 3, stride=2, padding=1,
                                               bias=False, norm_cfg=norm_cfg))
        return layers

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # Channels-last throughout: the blocks' (B, H, W, C) views for attention and LayerNorm
        # are then free, and oneDNN runs the FFN's 1x1 and depthwise convolutions several times
        # faster than on NCHW maps with few channels. The outputs are returned NCHW-contiguous.
        x = x.contiguous(memory_format=torch.channels_last)
        branches = [self.stages[0](self.stem(x))]
        for transition, stage in zip(self.transitions, self.stages[1:]):
            branches = [layer(branches[min(i, len(branches) - 1)])
                        for i, layer in enumerate(transition)]
            branches = stage(branches)
        return tuple(branches[i].contiguous() for i in self.out_indices)

    def _no_weight_decay_parameters(self):
        return [m.relative_position_bias_table for m in self.modules()
                if isinstance(m, WindowMultiheadAttention)]

    def _init_layers(self):
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_init(module, std=0.02, bias=0.)
            elif isinstance(module, (nn.LayerNorm, _BatchNorm, nn.GroupNorm)):
                constant_init(module, val=1., bias=0.)
            elif isinstance(module, nn.Conv2d):
                kaiming_init(module, mode='fan_out', nonlinearity='relu')
            elif hasattr(module, 'relative_position_bias_table'):
                module.init_weights()

    def _frozen_modules(self):
        if self.frozen_stages >= 0:
            yield self.stem
        for stage in range(1, self.frozen_stages + 1):
            if stage > 1:
                yield self.transitions[stage - 2]
            yield self.stages[stage - 1]


# ----------------------------------------------------------------------------- checkpoints
_BN_PARAM = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
# mmpose / official-pose names -> mmvitx names, applied in order (first match wins).
_MMPOSE_TO_MMVITX = [
    (r'^conv([12])\.', lambda m: f'stem.{int(m[1]) - 1}.conv.'),
    (r'^bn([12])\.', lambda m: f'stem.{int(m[1]) - 1}.bn.'),
    (r'^layer1\.(\d+)\.conv(\d)\.', r'stages.0.\1.conv\2.conv.'),
    (r'^layer1\.(\d+)\.bn(\d)\.', r'stages.0.\1.conv\2.bn.'),
    (r'^layer1\.(\d+)\.downsample\.0\.', r'stages.0.\1.downsample.conv.'),
    (r'^layer1\.(\d+)\.downsample\.1\.', r'stages.0.\1.downsample.bn.'),
    # A new branch's transition is nested one level deeper than an adapted branch's.
    (r'^transition(\d)\.(\d+)\.0\.0\.', lambda m: f'transitions.{int(m[1]) - 1}.{m[2]}.conv.'),
    (r'^transition(\d)\.(\d+)\.0\.1\.', lambda m: f'transitions.{int(m[1]) - 1}.{m[2]}.bn.'),
    (r'^transition(\d)\.(\d+)\.0\.', lambda m: f'transitions.{int(m[1]) - 1}.{m[2]}.conv.'),
    (r'^transition(\d)\.(\d+)\.1\.', lambda m: f'transitions.{int(m[1]) - 1}.{m[2]}.bn.'),
    (r'^stage(\d)\.', lambda m: f'stages.{int(m[1]) - 1}.'),
]
_BLOCK_RENAMES = [
    (r'\.ffn\.fc1\.', '.ffn.fc1.conv.'), (r'\.ffn\.norm1\.', '.ffn.fc1.bn.'),
    (r'\.ffn\.dw3x3\.', '.ffn.dwconv.conv.'), (r'\.ffn\.norm2\.', '.ffn.dwconv.bn.'),
    (r'\.ffn\.fc2\.', '.ffn.fc2.conv.'), (r'\.ffn\.norm3\.', '.ffn.fc2.bn.'),
    # Fuse paths: (conv, bn) upsampling; chains of (dwconv, bn, pwconv, bn) downsampling.
    (r'(\.fuse_layers\.\d+\.\d+)\.0\.' + _BN_PARAM + '$', r'\1.conv.\2'),
    (r'(\.fuse_layers\.\d+\.\d+)\.1\.' + _BN_PARAM + '$', r'\1.bn.\2'),
    (r'(\.fuse_layers\.\d+\.\d+\.\d+)\.0\.', r'\1.depthwise_conv.conv.'),
    (r'(\.fuse_layers\.\d+\.\d+\.\d+)\.1\.', r'\1.depthwise_conv.bn.'),
    (r'(\.fuse_layers\.\d+\.\d+\.\d+)\.2\.', r'\1.pointwise_conv.conv.'),
    (r'(\.fuse_layers\.\d+\.\d+\.\d+)\.3\.', r'\1.pointwise_conv.bn.'),
]
# Only in the official classification checkpoints: the ImageNet head.
_OFFICIAL_HEAD = ('incre_modules.', 'downsamp_modules.', 'final_layer.', 'classifier.')


def _official_to_mmpose(state_dict):
    """Official HRFormer (cls / pose fork) -> mmpose layout: fused qkv, ``proj``, ``ffn``."""
    out = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith(_OFFICIAL_HEAD) or key.endswith('relative_position_index'):
            continue
        if '.attn.attn.k_proj.' in key or '.attn.attn.v_proj.' in key:
            continue
        if '.attn.attn.q_proj.' in key:
            prefix, param = key.split('.attn.attn.q_proj.')
            value = torch.cat([state_dict[f'{prefix}.attn.attn.{p}_proj.{param}'] for p in 'qkv'])
            key = f'{prefix}.attn.attn.qkv.{param}'
        key = key.replace('.attn.attn.out_proj.', '.attn.attn.proj.').replace('.mlp.', '.ffn.')
        out[key] = value
    return out


def _rename_first(key, rules):
    for pattern, repl in rules:
        key, count = re.subn(pattern, repl, key, count=1)
        if count:
            break
    return key


def _rename_all(key, rules):
    for pattern, repl in rules:
        key = re.sub(pattern, repl, key, count=1)
    return key


@register_converter('hrformer')
def convert_hrformer(state_dict: dict) -> OrderedDict:
    """Official HRFormer or mmpose ``HRFormer`` weights -> mmvitx ``HRFormer``.

    Checkpoints already in mmvitx's layout pass through unchanged. The official classification
    head and the (derived) relative-position index buffers are dropped.
    """
    if any(key.startswith('stages.') for key in state_dict):
        return OrderedDict(state_dict)
    state_dict = _official_to_mmpose(state_dict)
    converted = OrderedDict()
    for key, value in state_dict.items():
        if key.endswith('relative_position_index'):
            continue
        converted[_rename_all(_rename_first(key, _MMPOSE_TO_MMVITX), _BLOCK_RENAMES)] = value
    return converted
