"""mmpose's COCO keypoint dataset with mmvitx's checks (:mod:`.checked`)."""
import json

from mmengine.fileio import get_local_path
from mmpose.datasets import CocoDataset
from mmpose.registry import DATASETS

from .checked import CheckedDatasetMixin, report_annotation_faults
from .checks import coco_annotation_faults


@DATASETS.register_module()
class CheckedCocoPoseDataset(CheckedDatasetMixin, CocoDataset):
    """mmpose's ``CocoDataset`` with mmvitx's checks; same arguments plus ``skip_bad_samples``.

    The annotation file is checked before mmpose reads it (mmpose's COCO API comes from
    xtcocotools and offers no hook): mmpose skips annotations without keypoints silently and
    stacks a wrong keypoint count only in the collate function, far from the file. Also for
    top-down testing from person detections (``bbox_file``), whose metric reads the file.
    """

    def load_data_list(self) -> list[dict]:
        with get_local_path(self.ann_file) as local_path, open(local_path) as file:
            data = json.load(file)
        report_annotation_faults(coco_annotation_faults(
            data, self.ann_file, num_keypoints=self.metainfo['num_keypoints']))
        return super().load_data_list()
