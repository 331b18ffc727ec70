"""mmdet's COCO dataset with mmvitx's checks (:mod:`.checked`)."""
from functools import partial

from mmdet.datasets import CocoDataset
from mmdet.datasets.api_wrappers import COCO
from mmdet.registry import DATASETS

from .checked import CheckedDatasetMixin, report_annotation_faults
from .checks import coco_annotation_faults


class CheckedCOCO(COCO):
    """mmdet's COCO API, checking the annotation file before indexing it: pycocotools' index
    stops with a bare ``KeyError`` on a missing field, and mmdet drops bad boxes silently."""

    def __init__(self, annotation_file: str, require_annotations: bool = True):
        self.annotation_file = annotation_file
        self.require_annotations = require_annotations
        super().__init__(annotation_file)

    def createIndex(self):  # noqa: N802 (pycocotools' name)
        report_annotation_faults(coco_annotation_faults(
            self.dataset, self.annotation_file, require_annotations=self.require_annotations))
        super().createIndex()


@DATASETS.register_module()
class CheckedCocoDataset(CheckedDatasetMixin, CocoDataset):
    """mmdet's ``CocoDataset`` with mmvitx's checks; same arguments plus ``skip_bad_samples``."""

    def load_data_list(self) -> list[dict]:
        # CocoDataset reads its file through self.COCOAPI; test-time files may list images only.
        self.COCOAPI = partial(CheckedCOCO, require_annotations=not self.test_mode)
        return super().load_data_list()
