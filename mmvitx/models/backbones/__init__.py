from .fastervit import FasterViT
from .hrformer import HRFormer
from .mvit import MViT

__all__ = ['FasterViT', 'HRFormer', 'MViT']
