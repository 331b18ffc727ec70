"""Training-loop components registered in MMEngine's root registries, so that the configs of
mmdet, mmsegmentation and mmpose can name them."""
from .optimizers import (LayerwiseLRDecayOptimWrapperConstructor,
                         SummarizedOptimWrapperConstructor)

__all__ = ['LayerwiseLRDecayOptimWrapperConstructor', 'SummarizedOptimWrapperConstructor']
