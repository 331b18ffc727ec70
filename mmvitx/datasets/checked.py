"""The checks shared by mmvitx's checked datasets (registered subclasses of the toolboxes' dataset
classes, see :mod:`.det`, :mod:`.seg`, :mod:`.pose`).

A checked dataset behaves like its toolbox class, with the same arguments (``data_root``,
``ann_file``, ``data_prefix``, ``pipeline``, ...) plus ``skip_bad_samples``, and:

* checks its annotation file while loading it (:mod:`.det`, :mod:`.pose`): a fault stops with one
  line naming the file, the annotation id and its image; degenerate boxes are warnings;
* runs its pipeline with a check right after each loading transform, on the sample as loaded
  (before any resize or crop): a file that fails to decode becomes one line naming it and why,
  and a loaded sample that cannot be right (a label map of another size than its image, label
  values outside the classes) stops likewise;
* with ``skip_bad_samples=True``, training logs each bad sample once at WARNING and goes on with
  the next sample (each bad one is skipped once per epoch), counting skips in shared memory for
  :class:`~mmvitx.datasets.hooks.BadSampleHook`; val/test (``test_mode=True``, which
  the recipes and ``--skip-bad-samples`` set for them) cannot draw another sample without the
  metric counting it twice, so there the bad samples are found when the dataset is built (every
  file decoded once) and left out, each with a warning that the metric is computed without it.
"""
import logging
import multiprocessing

from mmcv.transforms import LoadAnnotations, LoadImageFromFile
from mmengine.dataset import Compose
from mmengine.logging import print_log

from .checks import (BadSampleLog, DataFaultError, Fault, faults_error, image_file_fault,
                     image_size_fault)

# The loading transforms of all three toolboxes derive from these two (mmdet's and mmseg's
# LoadAnnotations, mmpose's LoadImage); their output is checked, their errors named.
LOADING_TRANSFORMS = (LoadImageFromFile, LoadAnnotations)
# Warnings about annotations shown one by one at dataset construction; the rest are counted.
MAX_WARNINGS_SHOWN = 10


class CheckedPipeline(Compose):
    """A dataset's pipeline (the same transform objects) that turns the errors of its loading
    transforms into a :class:`DataFaultError` naming the file, and after each of them runs
    ``check_loaded(data) -> list[Fault]`` on the loaded sample."""

    def __init__(self, transforms, check_loaded):
        super().__init__(transforms)
        self.check_loaded = check_loaded

    def __call__(self, data):
        for transform in self.transforms:
            if isinstance(transform, LOADING_TRANSFORMS):
                data = self._load(transform, data)
            else:
                data = transform(data)
            if data is None:
                return None
        return data

    def _load(self, transform, data):
        try:
            loaded = transform(data)
        except Exception as error:
            fault = loading_fault(transform, data, error)
            raise DataFaultError(str(fault), fault) from error
        if loaded is not None:
            errors = [fault for fault in self.check_loaded(loaded) if not fault.warning]
            if errors:
                raise faults_error(errors, 'sample')
        return loaded


def loading_fault(transform, data: dict, error: Exception) -> Fault:
    """What is wrong with the file ``transform`` failed on: PIL says it precisely (zero-byte,
    truncated, not an image); else the transform's own error, on one line."""
    loads_label = isinstance(transform, LoadAnnotations) and getattr(transform, 'with_seg', False)
    path = data.get('seg_map_path') if loads_label else data.get('img_path')
    if path is None:  # annotations decoded from the annotation file (boxes, polygons)
        return Fault(str(data.get('img_path')), 'bad annotation',
                     f'{type(transform).__name__} failed: {_one_line(error)}')
    _, fault = image_file_fault(path)
    return fault or Fault(path, 'unreadable file',
                          f'{type(transform).__name__} failed: {_one_line(error)}')


def _one_line(error: Exception) -> str:
    return ' '.join(f'{type(error).__name__}: {error}'.split())


def report_annotation_faults(faults: list[Fault]) -> None:
    """Log the warnings (the first few one by one, then a count); raise for the first error."""
    warnings = [fault for fault in faults if fault.warning]
    for fault in warnings[:MAX_WARNINGS_SHOWN]:
        print_log(str(fault), logger='current', level=logging.WARNING)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        print_log(f'{len(warnings) - MAX_WARNINGS_SHOWN} more annotation warnings like these '
                  f'(tools/misc/check_dataset.py CONFIG lists all)', logger='current',
                  level=logging.WARNING)
    errors = [fault for fault in faults if not fault.warning]
    if errors:
        raise faults_error(errors, 'annotation')


class CheckedDatasetMixin:
    """Checks for a toolbox dataset class; put it first in the bases. The subclasses provide
    :meth:`loaded_sample_faults` (checks of a loaded sample) and :meth:`sample_file_faults` (the
    same checks from the files alone, for val/test and tools/misc/check_dataset.py).

    Args:
        skip_bad_samples: go on without bad samples instead of stopping (see the module doc).
    """

    def __init__(self, *args, skip_bad_samples: bool = False, **kwargs):
        self.skip_bad_samples = skip_bad_samples
        self.excluded_bad_samples: list[Fault] = []  # val/test with skip_bad_samples
        self.bad_sample_log = None  # training with skip_bad_samples
        super().__init__(*args, **kwargs)
        self.pipeline = CheckedPipeline(self.pipeline.transforms, self.loaded_sample_faults)
        if skip_bad_samples:
            self.full_init()  # the log's size; before the dataloader workers start
            if not self.test_mode:
                self.bad_sample_log = BadSampleLog(len(self))

    def loaded_sample_faults(self, data: dict) -> list[Fault]:
        """Faults of a sample right after a loading transform; the base checks the image size
        against the annotation file where the data info has one (mmdet: height, width)."""
        if 'img' not in data or 'height' not in data or 'width' not in data:
            return []
        # ori_shape: the size as loaded; test pipelines resize before loading the annotations
        loaded_size = data.get('ori_shape', data['img'].shape[:2])
        fault = image_size_fault(data['img_path'], loaded_size,
                                 (data['height'], data['width']), self.ann_file)
        return [fault] if fault else []

    def sample_file_faults(self, data_info: dict) -> list[Fault]:
        """Faults of a sample's files, read without the pipeline: the image decodes (all of it),
        and its size matches the annotation file's."""
        size, fault = image_file_fault(data_info['img_path'])
        if fault:
            return [fault]
        if 'height' in data_info and 'width' in data_info:
            fault = image_size_fault(data_info['img_path'], size,
                                     (data_info['height'], data_info['width']), self.ann_file)
        return [fault] if fault else []

    def filter_data(self) -> list[dict]:
        data_list = super().filter_data()
        if not data_list:
            source = self.ann_file or ', '.join(str(p) for p in self.data_prefix.values())
            fault = Fault(source, 'no samples',
                          f'nothing left to {"test" if self.test_mode else "train"} on after '
                          f'loading and filtering (filter_cfg={self.filter_cfg})')
            raise DataFaultError(str(fault), fault)
        if self.test_mode and self.skip_bad_samples:
            data_list = self._without_bad_samples(data_list)
        return data_list

    def _without_bad_samples(self, data_list: list[dict]) -> list[dict]:
        """The samples whose files pass :meth:`sample_file_faults` (one check per file: mmpose's
        top-down samples share their image); warns for each one left out."""
        faults_of = {}
        kept = []
        for data_info in data_list:
            key = (data_info.get('img_path'), data_info.get('seg_map_path'))
            if key not in faults_of:
                faults_of[key] = [f for f in self.sample_file_faults(data_info) if not f.warning]
                for fault in faults_of[key]:
                    self.excluded_bad_samples.append(fault)
                    print_log(f'left out of the val/test set (skip_bad_samples): '
                              f'{fault}; the metric is computed without it', logger='current',
                              level=logging.WARNING)
            if not faults_of[key]:
                kept.append(data_info)
        return kept

    def prepare_data(self, idx):
        if self.bad_sample_log is None:
            return super().prepare_data(idx)
        # Skipping goes on with the next sample, not with mmengine's random refetch (which can
        # draw a bad sample again), so that an epoch skips each bad sample exactly once.
        for offset in range(len(self)):
            index = (idx + offset) % len(self)
            try:
                return super().prepare_data(index)
            except DataFaultError as fault:
                if self.bad_sample_log.record(index):
                    print_log(f'skipped a bad training sample (skip_bad_samples): {fault}',
                              logger='current', level=logging.WARNING)
        source = self.ann_file or ', '.join(str(p) for p in self.data_prefix.values())
        fault = Fault(source, 'no good samples',
                      f'all {len(self)} samples are bad (skip_bad_samples)')
        raise DataFaultError(str(fault), fault)


_scanned_dataset = None  # the dataset whose files the scanning processes check (inherited by fork)


def _scanned_sample_faults(data_info: dict) -> list[Fault]:
    return _scanned_dataset.sample_file_faults(data_info)


def iter_sample_file_faults(dataset: CheckedDatasetMixin, samples: list[dict], workers: int):
    """``dataset.sample_file_faults`` of each of ``samples`` (data infos), in order, decoded by
    ``workers`` forked processes (they inherit the dataset instead of unpickling it per task)."""
    global _scanned_dataset
    _scanned_dataset = dataset
    if workers <= 1:
        yield from map(_scanned_sample_faults, samples)
        return
    with multiprocessing.get_context('fork').Pool(workers) as pool:
        yield from pool.imap(_scanned_sample_faults, samples, chunksize=8)
