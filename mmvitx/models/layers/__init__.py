from .activation import ChannelsLastGELU, gelu, gelu_backward
from .attention import (ContinuousBiasWindowAttention, LocalWindowSelfAttention,
                        ShareableMultiheadAttention, WindowMultiheadAttention)
from .conv import (ConvModuleChain, FoldedConvModule, FoldedDepthwiseSeparableConvModule,
                   run_conv_chain)
from .ffn import DepthwiseConvFFN, LinearFFN
from .norm import LayerNorm2d, LayerScale
from .position import (ContinuousPositionBias, GridPositionEmbedding, decomposed_rel_pos_attention,
                       decomposed_rel_pos_terms, resize_abs_pos_embed, resize_rel_pos_table)
from .recompute import attention_with_learned_bias, batch_norm_act, gelu_linear
from .speedups import (PLAIN_OPS_ENV, inplace_add, inplace_relu, plain_ops, speedups_enabled,
                       tracing)
from .window import (ceil_div, pad_to_multiple, pad_to_window_multiple, relative_position_index,
                     window_merge, window_partition, windowed)

__all__ = [
    'ChannelsLastGELU', 'gelu', 'gelu_backward', 'ContinuousBiasWindowAttention',
    'LocalWindowSelfAttention', 'ShareableMultiheadAttention', 'WindowMultiheadAttention',
    'ConvModuleChain', 'FoldedConvModule', 'FoldedDepthwiseSeparableConvModule', 'run_conv_chain',
    'DepthwiseConvFFN', 'LinearFFN', 'LayerNorm2d', 'LayerScale', 'ContinuousPositionBias',
    'GridPositionEmbedding', 'decomposed_rel_pos_attention', 'decomposed_rel_pos_terms',
    'resize_abs_pos_embed',
    'resize_rel_pos_table', 'attention_with_learned_bias', 'batch_norm_act', 'gelu_linear',
    'PLAIN_OPS_ENV', 'inplace_add', 'inplace_relu', 'plain_ops', 'speedups_enabled', 'tracing',
    'ceil_div', 'pad_to_multiple', 'pad_to_window_multiple', 'relative_position_index',
    'window_merge', 'window_partition', 'windowed'
]
