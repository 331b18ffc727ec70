"""mmseg's ADE20K and Cityscapes datasets with mmvitx's checks (:mod:`.checked`): label maps
must have their image's size and values in [0, num_classes) or the ignore index, as loaded
(after reduce_zero_label and the label map of a class subset)."""
from mmseg.datasets import ADE20KDataset, CityscapesDataset
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import DATASETS

from .checked import CheckedDatasetMixin, loading_fault
from .checks import Fault, image_file_fault, label_map_faults


class CheckedSegDatasetMixin(CheckedDatasetMixin):
    """Label-map checks for mmseg datasets."""

    def loaded_sample_faults(self, data: dict) -> list[Fault]:
        if 'gt_seg_map' not in data:
            return []
        # ori_shape is the image as loaded, also where the pipeline resizes it before loading
        # the labels (mmseg's test pipelines)
        return label_map_faults(data['gt_seg_map'], data.get('ori_shape'),
                                len(self.metainfo['classes']), self.ignore_index,
                                data['seg_map_path'], data.get('reduce_zero_label', False))

    def sample_file_faults(self, data_info: dict) -> list[Fault]:
        """The image decodes; the label map, read by the pipeline's own LoadAnnotations (without
        one, labels are not read), decodes and passes :func:`label_map_faults`."""
        size, fault = image_file_fault(data_info['img_path'])
        faults = [fault] if fault else []
        loaders = [t for t in self.pipeline.transforms if isinstance(t, LoadAnnotations)]
        if not loaders or not data_info.get('seg_map_path'):
            return faults
        data = dict(data_info, seg_fields=[])
        try:
            data = loaders[0](data)
        except Exception as error:
            return faults + [loading_fault(loaders[0], data, error)]
        return faults + label_map_faults(
            data['gt_seg_map'], size, len(self.metainfo['classes']), self.ignore_index,
            data['seg_map_path'], data.get('reduce_zero_label', False))


@DATASETS.register_module()
class CheckedADE20KDataset(CheckedSegDatasetMixin, ADE20KDataset):
    """mmseg's ``ADE20KDataset`` with mmvitx's checks; same arguments plus
    ``skip_bad_samples``."""


@DATASETS.register_module()
class CheckedCityscapesDataset(CheckedSegDatasetMixin, CityscapesDataset):
    """mmseg's ``CityscapesDataset`` with mmvitx's checks; same arguments plus
    ``skip_bad_samples``."""
