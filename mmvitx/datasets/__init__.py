"""Dataset utilities: the generator of the small learnable demo datasets."""
from .demo import DEMO_DATASETS, generate_demo_data

__all__ = ['DEMO_DATASETS', 'generate_demo_data']
