"""Datasets: mmvitx's checked datasets (registered subclasses of the toolboxes' COCO, ADE20K and
Cityscapes datasets that name every bad file and annotation, with an opt-in skip mode), the hook
reporting skipped samples, the file checks they share with tools/misc/check_dataset.py, and the
generator of the small learnable demo datasets."""
from .checked import CheckedDatasetMixin
from .checks import DataFaultError, Fault
from .demo import DEMO_DATASETS, generate_demo_data
from .det import CheckedCocoDataset
from .hooks import BadSampleHook
from .pose import CheckedCocoPoseDataset
from .seg import CheckedADE20KDataset, CheckedCityscapesDataset

__all__ = ['BadSampleHook', 'CheckedADE20KDataset', 'CheckedCityscapesDataset',
           'CheckedCocoDataset', 'CheckedCocoPoseDataset', 'CheckedDatasetMixin',
           'DataFaultError', 'DEMO_DATASETS', 'Fault', 'generate_demo_data']
