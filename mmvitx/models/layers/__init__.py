from .activation import ChannelsLastGELU
from .attention import (ContinuousBiasWindowAttention, LocalWindowSelfAttention,
                        ShareableMultiheadAttention, WindowMultiheadAttention)
from .conv import FoldedConvModule, FoldedDepthwiseSeparableConvModule
from .ffn import DepthwiseConvFFN, LinearFFN
from .norm import LayerNorm2d, LayerScale
from .position import (ContinuousPositionBias, GridPositionEmbedding, decomposed_rel_pos_attention,
                       resize_abs_pos_embed, resize_rel_pos_table)
from .window import (crop_padding, pad_to_window_multiple, relative_position_index, window_merge,
                     window_partition)

__all__ = [
    'ChannelsLastGELU', 'ContinuousBiasWindowAttention', 'LocalWindowSelfAttention',
    'ShareableMultiheadAttention', 'WindowMultiheadAttention', 'relative_position_index',
    'FoldedConvModule', 'FoldedDepthwiseSeparableConvModule', 'DepthwiseConvFFN', 'LinearFFN',
    'LayerNorm2d', 'LayerScale', 'ContinuousPositionBias',
    'GridPositionEmbedding', 'decomposed_rel_pos_attention', 'resize_abs_pos_embed',
    'resize_rel_pos_table', 'crop_padding', 'pad_to_window_multiple', 'window_merge',
    'window_partition'
]
