"""Checks of dataset files and annotations, shared by the checked datasets (training and testing,
:mod:`mmvitx.datasets.checked`) and ``tools/misc/check_dataset.py``.

Every fault is reported as one line, ``FILE: REASON: DETAIL``, where FILE is the image, label map or
annotation file at fault and DETAIL names the annotation id and image where there is one.
"""
import multiprocessing
import os
import os.path as osp
from dataclasses import dataclass
from numbers import Real

import numpy as np
from PIL import Image


class DataFaultError(Exception):
    """A bad dataset file or annotation. The message is one line naming the file (and the
    annotation) and what is wrong with it. Constructible from the message alone, as torch's
    dataloader re-raises a worker's error in the main process; ``fault`` is then None."""

    def __init__(self, message: str, fault: 'Fault | None' = None):
        super().__init__(message)
        self.fault = fault


@dataclass(frozen=True)
class Fault:
    """One bad file or annotation. ``reason`` is the short category the summaries count."""
    file: str
    reason: str
    detail: str
    warning: bool = False  # suspicious but usable: the toolbox drops or handles it

    def __str__(self):
        return f'{self.file}: {self.reason}: {self.detail}'


def faults_error(faults: list[Fault], what: str) -> DataFaultError:
    """One error for the first of ``faults`` (the others are counted; the check tool lists all)."""
    more = len(faults) - 1
    suffix = (f' (and {more} more {what} faults; tools/misc/check_dataset.py CONFIG lists all)'
              if more else '')
    return DataFaultError(f'{faults[0]}{suffix}', faults[0])


# --------------------------------------------------------------------------------------------
# Image and label files
# --------------------------------------------------------------------------------------------
def image_file_fault(path: str, full_decode: bool = True) -> tuple[tuple[int, int] | None,
                                                                  Fault | None]:
    """The (height, width) of the image file at ``path`` from its header, or the fault that keeps
    it from decoding. ``full_decode`` also decodes the pixels, which finds truncated files (OpenCV,
    mmcv's default image backend, decodes a truncated JPEG without an error, grey at the bottom);
    JPEGs decode at 1/8 scale through PIL's draft mode, which still reads the whole file."""
    if not osp.isfile(path):
        return None, Fault(path, 'missing file', 'no such file')
    if os.stat(path).st_size == 0:
        return None, Fault(path, 'empty file', 'zero-byte file')
    try:
        with Image.open(path) as image:
            size = (image.height, image.width)
            if full_decode:
                image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except Image.UnidentifiedImageError:
        return None, Fault(path, 'undecodable image', 'not an image file PIL can read')
    except (OSError, SyntaxError, ValueError) as error:  # PIL's errors for corrupt data
        reason = 'truncated image' if 'truncated' in str(error) else 'undecodable image'
        return None, Fault(path, reason, str(error))
    return size, None


def image_size_fault(path: str, actual: tuple[int, int], annotated: tuple[int, int],
                     ann_file: str) -> Fault | None:
    """The image's actual (height, width) differs from the annotation file's: boxes, masks and
    keypoints would be misplaced."""
    if tuple(actual) == tuple(annotated):
        return None
    return Fault(path, 'image size differs from annotation',
                 f'image is {actual[0]}x{actual[1]} (HxW), {ann_file} says '
                 f'{annotated[0]}x{annotated[1]}')


def label_map_faults(label: np.ndarray, image_shape: tuple[int, int] | None, num_classes: int,
                     ignore_index: int, path: str, reduce_zero_label: bool = False) -> list[Fault]:
    """Faults of a loaded label map: not one channel, a size other than its image's (the labels
    would be misaligned after resizing and cropping), values outside [0, num_classes) that are not
    the ignore index (they fail in the loss). ``label`` is as loaded, after reduce_zero_label."""
    faults = []
    if label.ndim != 2:
        faults.append(Fault(path, 'label map not single-channel',
                            f'label map has shape {label.shape}, expected HxW class indices'))
        return faults
    if image_shape is not None and tuple(label.shape) != tuple(image_shape[:2]):
        faults.append(Fault(path, 'label size differs from image',
                            f'label map is {label.shape[0]}x{label.shape[1]} (HxW), its image '
                            f'{image_shape[0]}x{image_shape[1]}'))
    values = np.unique(label)
    bad = values[((values < 0) | (values >= num_classes)) & (values != ignore_index)]
    if bad.size:
        shown = ', '.join(str(v) for v in bad[:8]) + (', ...' if bad.size > 8 else '')
        after = ' after reduce_zero_label' if reduce_zero_label else ''
        faults.append(Fault(path, 'label value out of range',
                            f'values {shown}{after} outside [0, {num_classes}) and not the ignore '
                            f'index {ignore_index} (e.g. Cityscapes labelIds instead of '
                            f'labelTrainIds)'))
    return faults


# --------------------------------------------------------------------------------------------
# COCO annotation files (instances and keypoints)
# --------------------------------------------------------------------------------------------
IMAGE_FIELDS = ('id', 'file_name', 'width', 'height')
ANNOTATION_FIELDS = ('id', 'image_id', 'category_id', 'bbox')


def coco_annotation_faults(data, ann_file: str, num_keypoints: int | None = None,
                           require_annotations: bool = True) -> list[Fault]:
    """Faults of a loaded COCO annotation file (instances, or keypoints where ``num_keypoints``
    is given): missing fields, annotations of unknown images or categories, malformed or
    negative boxes, wrong keypoint counts; an empty annotation list. Boxes of zero size or
    entirely outside their image are warnings: the toolboxes drop them, and real COCO has a few.

    ``require_annotations``: False for test-time files that may list images only (image_info
    files); an empty ``annotations`` list is a fault either way.
    """
    def fault(reason, detail, warning=False):
        faults.append(Fault(ann_file, reason, detail, warning))

    faults = []
    if not isinstance(data, dict) or not isinstance(data.get('images'), list):
        fault('missing field', 'no "images" list at the top level')
        return faults
    images = {}
    for index, image in enumerate(data['images']):
        missing = [key for key in IMAGE_FIELDS if key not in image]
        if missing:
            name = image.get('file_name', image.get('id', f'number {index}'))
            fault('missing field', f'image {name} has no {_quoted(missing)}')
        elif image['id'] in images:
            fault('duplicate id', f'image id {image["id"]} ({image["file_name"]}) occurs twice')
        else:
            images[image['id']] = image
    if 'annotations' not in data:
        if require_annotations:
            fault('missing field', 'no "annotations" list at the top level')
        return faults
    annotations = data['annotations']
    if not isinstance(annotations, list) or not annotations:
        fault('no annotations', 'the "annotations" list is empty')
        return faults
    categories = {category.get('id') for category in data.get('categories', [])}
    if not categories:
        fault('missing field', 'no "categories" list at the top level')
    keypoint_values = None if num_keypoints is None else 3 * num_keypoints
    ann_ids = set()
    for index, ann in enumerate(annotations):
        image = images.get(ann.get('image_id'))
        where = (f'annotation id {ann.get("id", f"(none; number {index} in the list)")} (image '
                 f'id {ann.get("image_id")}, {image["file_name"] if image else "unknown image"})')
        required = ANNOTATION_FIELDS + (('keypoints', ) if keypoint_values else ())
        missing = [key for key in required if key not in ann]
        if missing:
            fault('missing field', f'{where} has no {_quoted(missing)}')
            continue
        if ann['id'] in ann_ids:
            fault('duplicate id', f'{where}: annotation id occurs twice')
        ann_ids.add(ann['id'])
        if image is None:
            fault('unknown image', f'{where}: image id {ann["image_id"]} is not in "images"')
            continue
        if categories and ann['category_id'] not in categories:
            fault('unknown category',
                  f'{where}: category_id {ann["category_id"]} is not in "categories"')
        box = ann['bbox']
        if not (isinstance(box, list) and len(box) == 4
                and all(isinstance(v, Real) and np.isfinite(v) for v in box)):
            fault('malformed box', f'{where}: bbox {box!r} is not 4 finite numbers [x, y, w, h]')
        else:
            x, y, w, h = box
            if w < 0 or h < 0:
                fault('negative box size',
                      f'{where}: bbox {box} has a negative width or height (COCO boxes are '
                      f'[x, y, width, height])')
            elif w < 1 or h < 1:
                fault('degenerate box', f'{where}: bbox {box} is under 1 pixel wide or high; '
                      f'the dataset drops it', warning=True)
            elif (min(x + w, image['width']) <= max(x, 0)
                  or min(y + h, image['height']) <= max(y, 0)):
                fault('box outside image', f'{where}: bbox {box} lies outside the '
                      f'{image["width"]}x{image["height"]} image; the dataset drops it',
                      warning=True)
        if keypoint_values:
            keypoints = ann['keypoints']
            if not isinstance(keypoints, list) or len(keypoints) != keypoint_values:
                count = len(keypoints) if isinstance(keypoints, list) else 'not a list'
                fault('wrong keypoint count',
                      f'{where}: "keypoints" has {count} values, the dataset has '
                      f'{num_keypoints} keypoints (x, y, visibility each: {keypoint_values})')
    return faults


def _quoted(keys):
    return ', '.join(f'"{key}"' for key in keys)


# --------------------------------------------------------------------------------------------
# Counting skipped samples across dataloader workers
# --------------------------------------------------------------------------------------------
class BadSampleLog:
    """Which samples of a dataset were skipped as bad, and how often, in shared memory.

    Dataloader workers are separate processes: the log is created in the main process before they
    start, so they inherit (fork) or receive (spawn) the same shared arrays, and the main process's
    :class:`~mmvitx.datasets.hooks.BadSampleHook` reads what they recorded.
    """

    def __init__(self, num_samples: int):
        self._seen = multiprocessing.Array('B', max(1, num_samples))  # one flag per sample
        self._skips = multiprocessing.Value('q', 0, lock=False)  # guarded by _seen's lock

    def record(self, index: int) -> bool:
        """Count a skip of sample ``index``; True when it is the first skip of that sample."""
        with self._seen.get_lock():
            self._skips.value += 1
            first = not self._seen[index]
            self._seen[index] = 1
        return first

    def take_skips(self) -> int:
        """The skips recorded since the previous call."""
        with self._seen.get_lock():
            skips, self._skips.value = self._skips.value, 0
        return skips

    def seen(self) -> np.ndarray:
        """One flag per sample: 1 where it was ever skipped."""
        with self._seen.get_lock():
            return np.frombuffer(self._seen.get_obj(), dtype=np.uint8).copy()
