from .fastervit import FasterViT
from .hrformer import HRFormer

__all__ = ['FasterViT', 'HRFormer']
