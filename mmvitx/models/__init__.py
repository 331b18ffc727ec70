from .backbones import *  # noqa: F401,F403  (registers the backbones)
from .necks import SimpleFeaturePyramid
from .pretrained import CONVERTERS, get_converter, load_pretrained

__all__ = ['CONVERTERS', 'get_converter', 'load_pretrained', 'SimpleFeaturePyramid']
