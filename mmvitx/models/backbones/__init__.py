# Imported in the order the families joined: BACKBONES (and so the tools' lists) keep it.
from .base import BACKBONES, DenseBackbone, register_backbone
from .hrformer import HRFormer  # isort: skip
from .fastervit import FasterViT  # isort: skip
from .mvit import MViT  # isort: skip
from .psvit import PSViT  # isort: skip
from .vit import (ViT, DeiT, CaiT, DeepViT, CPVT, LocalViT, ConViT, CeiT, T2TViT,  # isort: skip
                  SoViT)
from .tnt import TNT  # isort: skip
from .crossvit import CrossViT  # isort: skip

__all__ = ['BACKBONES', 'DenseBackbone', 'register_backbone', 'HRFormer', 'FasterViT', 'MViT',
           'PSViT', 'ViT', 'DeiT', 'CaiT', 'DeepViT', 'CPVT', 'LocalViT', 'ConViT', 'CeiT',
           'T2TViT', 'SoViT', 'TNT', 'CrossViT']
