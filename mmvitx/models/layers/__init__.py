from .activation import ChannelsLastGELU, gelu, gelu_backward
from .attention import (ContinuousBiasWindowAttention, LocalWindowSelfAttention,
                        ShareableMultiheadAttention, WindowMultiheadAttention)
from .conv import (ConvModuleChain, FoldedConvModule, FoldedDepthwiseSeparableConvModule,
                   run_conv_chain)
from .ffn import DepthwiseConvFFN, LinearFFN
from .norm import LayerNorm2d, LayerScale
from .position import (ContinuousPositionBias, GridPositionEmbedding, decomposed_rel_pos_attention,
                       resize_abs_pos_embed, resize_rel_pos_table)
from .recompute import attention_with_learned_bias, batch_norm_act, gelu_linear
from .window import (crop_padding, pad_to_window_multiple, relative_position_index, window_merge,
                     window_partition)

__all__ = [
    'ChannelsLastGELU', 'gelu', 'gelu_backward', 'ContinuousBiasWindowAttention',
    'LocalWindowSelfAttention', 'ShareableMultiheadAttention', 'WindowMultiheadAttention',
    'ConvModuleChain', 'FoldedConvModule', 'FoldedDepthwiseSeparableConvModule', 'run_conv_chain',
    'DepthwiseConvFFN', 'LinearFFN', 'LayerNorm2d', 'LayerScale', 'ContinuousPositionBias',
    'GridPositionEmbedding', 'decomposed_rel_pos_attention', 'resize_abs_pos_embed',
    'resize_rel_pos_table', 'attention_with_learned_bias', 'batch_norm_act', 'gelu_linear',
    'crop_padding', 'pad_to_window_multiple', 'relative_position_index', 'window_merge',
    'window_partition'
]
