"""Check a dataset the way a config reads it, and list every bad file and annotation.

Reads the datasets of the config's train/val/test dataloaders (through RepeatDataset and other
wrappers) with the paths the config gives them (data_root, data_prefix, ann_file, after
--cfg-options), and checks:
  * COCO annotation files (instances; keypoints with the dataset's keypoint count): fields present,
    annotations of known images and categories, boxes of 4 numbers, no negative sizes, the keypoint
    count, a non-empty annotation list; boxes under 1 pixel or outside their image are warnings
    (the toolboxes drop them);
  * every image: it exists, is not empty and decodes completely (also truncated JPEGs, which
    OpenCV decodes with a grey bottom), and has the size the annotation file gives;
  * every label map (mmseg): it decodes with the config's LoadAnnotations, has the size of its
    image and values in [0, num_classes) or the ignore index (after reduce_zero_label).
Prints one line per fault (FILE: REASON: DETAIL), then counts per reason. Exit status 1 if any
error was found (warnings alone: 0). The datasets must be mmvitx's checked datasets, as in the
configs under configs/.

Examples:
    python tools/misc/check_dataset.py configs/hrformer/hrformer-t_ocr_cityscapes-demo.py
    python tools/misc/check_dataset.py CONFIG --split train --workers 2 \\
        --cfg-options train_dataloader.dataset.dataset.data_root=/data/coco/
"""
import argparse
import json
import multiprocessing
import os.path as osp
import sys
import time
import warnings
from collections import Counter

# mmengine and the toolboxes import pkg_resources, deprecated with a warning per importing package
warnings.filterwarnings('ignore', message='pkg_resources is deprecated as an API',
                        category=UserWarning)

from mmengine.config import Config, DictAction  # noqa: E402

SPLITS = ('train', 'val', 'test')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file (mmdet, mmseg or mmpose)')
    parser.add_argument('--split', nargs='+', choices=SPLITS, default=['train', 'val'],
                        help='dataloaders to check (default: train val)')
    parser.add_argument('--workers', type=int, default=multiprocessing.cpu_count(),
                        help='processes decoding files (default: the number of CPUs, '
                             '%(default)s here)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config entries, e.g. '
                             'val_dataloader.dataset.data_root=data/demo/cityscapes/')
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error('--workers must be at least 1')
    return args


def build_checked_dataset(dataset_cfg):
    """The dataset with its paths resolved but nothing loaded yet (lazy_init)."""
    from mmengine.registry import DATASETS

    from mmvitx.datasets import CheckedDatasetMixin

    dataset = DATASETS.build(dict(dataset_cfg, lazy_init=True))
    if not isinstance(dataset, CheckedDatasetMixin):
        raise SystemExit(
            f'check_dataset.py: error: {dataset_cfg.type} is not one of mmvitx\'s checked '
            f'datasets (CheckedCocoDataset, CheckedCocoPoseDataset, CheckedADE20KDataset, '
            f'CheckedCityscapesDataset); set type= to the one for {dataset_cfg.type}.')
    return dataset


def annotation_file_samples(dataset, faults: list) -> list[dict]:
    """Check a COCO annotation file; returns its images as samples to check."""
    from mmvitx.datasets.checks import Fault, coco_annotation_faults

    if not osp.isfile(dataset.ann_file):
        faults.append(Fault(dataset.ann_file, 'missing file', 'no such file'))
        return []
    with open(dataset.ann_file) as file:
        try:
            data = json.load(file)
        except json.JSONDecodeError as error:
            faults.append(Fault(dataset.ann_file, 'malformed annotation file', str(error)))
            return []
    faults += coco_annotation_faults(data, dataset.ann_file,
                                     num_keypoints=dataset.metainfo.get('num_keypoints'),
                                     require_annotations=not dataset.test_mode)
    return [dict(img_path=osp.join(dataset.data_prefix['img'], image['file_name']),
                 height=image['height'], width=image['width'])
            for image in data.get('images', []) if {'file_name', 'height', 'width'} <= image.keys()]


def listed_samples(dataset, faults: list) -> list[dict]:
    """The samples of a dataset without annotation file (mmseg: images and label maps found in
    its folders)."""
    from mmvitx.datasets import DataFaultError

    try:
        dataset.full_init()
    except DataFaultError as error:
        faults.append(error.fault)
        return []
    return [dataset.get_data_info(index) for index in range(len(dataset))]


def scan(dataset, samples: list[dict], workers: int, report) -> None:
    """Check every sample's files with ``workers`` processes, with a progress bar; calls
    ``report(fault)`` for each fault, in sample order."""
    from mmvitx.datasets.checked import iter_sample_file_faults

    try:
        from tqdm import tqdm
        progress = tqdm(total=len(samples), unit='file', file=sys.stderr, dynamic_ncols=True)
        write = tqdm.write
    except ImportError:
        from mmengine.utils import ProgressBar
        progress, write = ProgressBar(len(samples), file=sys.stderr), print
    try:
        for faults in iter_sample_file_faults(dataset, samples, workers):
            for fault in faults:
                write(report(fault))
            progress.update(1)
    finally:
        if hasattr(progress, 'close'):
            progress.close()
        else:
            print(file=sys.stderr)


def main(argv=None) -> int:
    args = parse_args(argv)
    # Imported after parsing, so that --help answers at once.
    import mmvitx  # noqa: F401 (registers the checked datasets)
    from mmengine.registry import init_default_scope

    from mmvitx.utils.toolbox import innermost_dataset_configs

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmengine'))

    all_faults, seen_files, scanned, scan_seconds = [], set(), 0, 0.0

    def report(fault):
        all_faults.append(fault)
        return f'{"warning" if fault.warning else "error"}: {fault}'

    for split in args.split:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            print(f'{split}: the config has no {split}_dataloader')
            continue
        for dataset_cfg in innermost_dataset_configs(loader.dataset):
            dataset = build_checked_dataset(dataset_cfg)
            faults = []
            if dataset.ann_file and dataset.ann_file.endswith('.json'):
                samples = annotation_file_samples(dataset, faults)
                source = dataset.ann_file
            else:
                samples = listed_samples(dataset, faults)
                source = ', '.join(sorted(set(map(str, dataset.data_prefix.values()))))
            for fault in faults:
                print(report(fault))
            # val and test often read the same files: check each file once
            samples = [s for s in samples if (s['img_path'], s.get('seg_map_path')) not in
                       seen_files]
            seen_files.update((s['img_path'], s.get('seg_map_path')) for s in samples)
            print(f'{split}: {dataset_cfg.type} from {source}: checking {len(samples)} samples',
                  file=sys.stderr)
            started = time.perf_counter()
            scan(dataset, samples, args.workers, report)
            scan_seconds += time.perf_counter() - started
            scanned += len(samples)

    errors = Counter(f.reason for f in all_faults if not f.warning)
    warnings = Counter(f.reason for f in all_faults if f.warning)
    print(f'\nchecked {scanned} samples in {scan_seconds:.1f} s '
          f'({scanned / max(scan_seconds, 1e-9):.0f} samples/s, {args.workers} workers)')
    for title, counts in (('errors', errors), ('warnings', warnings)):
        print(f'{sum(counts.values())} {title}' + (':' if counts else ''))
        for reason, count in counts.most_common():
            print(f'  {count:6d}  {reason}')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
