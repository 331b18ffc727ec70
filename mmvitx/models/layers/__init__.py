from .attention import LocalWindowSelfAttention, WindowMultiheadAttention, relative_position_index
from .ffn import DepthwiseConvFFN
from .window import crop_padding, pad_to_window_multiple, window_merge, window_partition

__all__ = [
    'LocalWindowSelfAttention', 'WindowMultiheadAttention', 'relative_position_index',
    'DepthwiseConvFFN', 'crop_padding', 'pad_to_window_multiple', 'window_merge',
    'window_partition'
]
