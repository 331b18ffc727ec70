from .fastervit import FasterViT
from .hrformer import HRFormer
from .mvit import MViT
from .psvit import PSViT

__all__ = ['FasterViT', 'HRFormer', 'MViT', 'PSViT']
