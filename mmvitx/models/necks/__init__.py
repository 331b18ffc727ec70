from .multi_branch_feature_pyramid import MultiBranchFeaturePyramid
from .simple_feature_pyramid import SimpleFeaturePyramid

__all__ = ['MultiBranchFeaturePyramid', 'SimpleFeaturePyramid']
