"""The demo-data generator: determinism, speed, the toolboxes' real dataset classes read it, and
its labels follow from the pixels (a nearest-colour classifier fitted on train works on val)."""
import hashlib
import importlib
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from pycocotools.coco import COCO

from mmvitx.datasets.demo import (ADE_BACKGROUND, ADE_FLOOR, ADE_OBJECTS, CITYSCAPES_CLASSES,
                                  COCO_KEYPOINT_NAMES, COCO_SHAPE_CATEGORIES, generate_demo_data)

REPO = Path(__file__).resolve().parents[1]
NUM_TRAIN, NUM_VAL = 24, 8  # the generator's defaults, used by the ``demo_data`` fixture
ADE_ROOT = Path('ade/ADEChallengeData2016')


def file_hashes(root):
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob('*')) if path.is_file()}


def packaged_config(package, relative_path):
    package_dir = Path(importlib.import_module(package).__file__).parent
    return Config.fromfile(package_dir / '.mim' / 'configs' / relative_path)


def build_dataset(scope, dataset_cfg):
    """Build ``dataset_cfg`` with toolbox ``scope``'s registries (its own transforms etc.)."""
    importlib.import_module(f'{scope}.utils').register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope(scope):
        return importlib.import_module(f'{scope}.registry').DATASETS.build(dataset_cfg)


def get_item(scope, dataset, index):
    with DefaultScope.overwrite_default_scope(scope):
        return dataset[index]


def nearest_colour_accuracy(train_pairs, val_pairs, ignore=()):
    """Pixel accuracy on val of a nearest-mean-colour classifier fitted on train.

    Each pair is (BGR image, integer label map of the same size).
    """
    def pixels(pairs):
        colours = np.concatenate([image.reshape(-1, 3) for image, _ in pairs]).astype(np.float32)
        labels = np.concatenate([label.reshape(-1) for _, label in pairs])
        keep = ~np.isin(labels, ignore)
        return colours[keep], labels[keep]

    colours, labels = pixels(train_pairs)
    classes = np.unique(labels)
    centroids = np.stack([colours[labels == c].mean(axis=0) for c in classes])
    colours, labels = pixels(val_pairs)
    distances = ((colours[:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    return (classes[distances.argmin(axis=1)] == labels).mean(), centroids


# ------------------------------------------------------------------------------------------------
# Generator
# ------------------------------------------------------------------------------------------------
def test_layout(demo_data):
    coco = demo_data / 'coco'
    for split in ('train', 'val'):
        count = NUM_TRAIN if split == 'train' else NUM_VAL
        assert len(list((coco / f'{split}2017').glob('*.jpg'))) == 2 * count
        instances = json.loads((coco / f'annotations/instances_{split}2017.json').read_text())
        keypoints = json.loads(
            (coco / f'annotations/person_keypoints_{split}2017.json').read_text())
        shape_ids = {image['id'] for image in instances['images']}
        person_ids = {image['id'] for image in keypoints['images']}
        assert len(shape_ids) == len(person_ids) == count and not shape_ids & person_ids
        for image in instances['images'] + keypoints['images']:
            assert image['file_name'] == f'{image["id"]:012d}.jpg'
            assert (coco / f'{split}2017' / image['file_name']).is_file()
        ade_split = {'train': 'training', 'val': 'validation'}[split]
        ade_images = sorted((demo_data / ADE_ROOT / 'images' / ade_split).glob('*.jpg'))
        ade_labels = sorted((demo_data / ADE_ROOT / 'annotations' / ade_split).glob('*.png'))
        assert [p.stem for p in ade_images] == [p.stem for p in ade_labels]
        assert len(ade_images) == count
        city_images = sorted((demo_data / 'cityscapes/leftImg8bit' / split).glob('*/*.png'))
        city_labels = sorted((demo_data / 'cityscapes/gtFine' / split).glob('*/*.png'))
        assert len(city_images) == len(city_labels) == count
        assert all(p.name.endswith('_leftImg8bit.png') for p in city_images)
        assert all(p.name.endswith('_gtFine_labelTrainIds.png') for p in city_labels)
    detections = json.loads(
        (coco / 'person_detection_results/COCO_val2017_detections_AP_H_56_person.json')
        .read_text())
    val_persons = json.loads((coco / 'annotations/person_keypoints_val2017.json').read_text())
    assert len(detections) == len(val_persons['annotations']) > 0
    assert {d['image_id'] for d in detections} <= {i['id'] for i in val_persons['images']}
    assert all(d['category_id'] == 1 and 0 < d['score'] <= 1 for d in detections)


def test_deterministic_and_fast(demo_data, tmp_path):
    start = time.perf_counter()
    generate_demo_data(tmp_path)  # the fixture's arguments
    elapsed = time.perf_counter() - start
    assert elapsed < 30, f'generating all demo datasets took {elapsed:.1f} s'
    assert file_hashes(tmp_path) == file_hashes(demo_data)


def test_seed_changes_every_image(demo_data, tmp_path):
    generate_demo_data(tmp_path, seed=1, datasets=['ade20k', 'cityscapes'], num_train=3,
                       num_val=2)
    new, old = file_hashes(tmp_path), file_hashes(demo_data)
    assert len(new) == 2 * (3 + 2) * 2
    assert all(new[name] != old[name] for name in new)


def test_subset_reproduces_the_full_run(demo_data, tmp_path):
    """An image depends only on (seed, dataset, split, index), not on --only or the counts."""
    generate_demo_data(tmp_path, datasets=['cityscapes', 'ade20k'], num_train=2, num_val=3)
    new, old = file_hashes(tmp_path), file_hashes(demo_data)
    assert len(new) == 2 * (2 + 3) * 2  # images and label maps of both datasets
    assert all(new[name] == old[name] for name in new)


def load_cli():
    path = REPO / 'tools/misc/generate_demo_data.py'
    spec = importlib.util.spec_from_file_location('generate_demo_data', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_options(capsys):
    cli = load_cli()
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(['--help'])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    for option in ('--out', '--seed', '--only', '--num-train', '--num-val'):
        assert option in help_text
    args = cli.parse_args([])
    assert (args.out, args.seed, args.num_train, args.num_val) == ('data/demo', 0, 24, 8)
    assert args.only == ['coco', 'coco_pose', 'ade20k', 'cityscapes']
    for bad in (['--only', 'imagenet'], ['--seed', '-1'], ['--num-val', '0']):
        with pytest.raises(SystemExit) as exit_info:
            cli.parse_args(bad)
        assert exit_info.value.code == 2


def test_cli_run(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / 'tools/misc/generate_demo_data.py'), '--out', str(tmp_path),
         '--only', 'coco_pose', 'ade20k', '--num-train', '2', '--num-val', '1', '--seed', '5'],
        capture_output=True, text=True, check=True)
    for line in ('[ade20k] train: 2 images', '[ade20k] val: 1 images',
                 '[coco_pose] train: 2 images', '[coco_pose] val: 1 images'):
        assert line in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ['ade', 'coco']
    assert len(list((tmp_path / ADE_ROOT).rglob('*.png'))) == 3
    assert not (tmp_path / 'coco/annotations/instances_train2017.json').exists()


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='unknown demo datasets'):
        generate_demo_data(tmp_path, datasets=['imagenet'])
    with pytest.raises(ValueError, match='seed'):
        generate_demo_data(tmp_path, seed=-1)


# ------------------------------------------------------------------------------------------------
# The toolboxes' dataset classes read the data
# ------------------------------------------------------------------------------------------------
def test_mmdet_coco_instances(demo_data):
    from mmdet.datasets import CocoDataset

    cfg = packaged_config('mmdet', '_base_/datasets/coco_instance.py')
    coco_classes = CocoDataset.METAINFO['classes']
    # The instances files list all 80 categories, in mmdet's class order.
    categories = json.loads(
        (demo_data / 'coco/annotations/instances_val2017.json').read_text())['categories']
    assert tuple(category['name'] for category in categories) == coco_classes
    assert categories[coco_classes.index('tv')]['id'] == 72
    shape_labels = {coco_classes.index(name) for name in COCO_SHAPE_CATEGORIES}
    assert shape_labels == {32, 33, 62}
    for loader, count in ((cfg.train_dataloader, NUM_TRAIN), (cfg.val_dataloader, NUM_VAL)):
        dataset_cfg = loader.dataset
        dataset_cfg.data_root = str(demo_data / 'coco')
        dataset = build_dataset('mmdet', dataset_cfg)
        assert len(dataset) == count
        seen_labels = set()
        for index in range(len(dataset)):
            sample = get_item('mmdet', dataset, index)['data_samples']
            gt = sample.gt_instances
            assert 1 <= len(gt) <= 3
            assert len(gt.masks) == len(gt.bboxes)
            assert (gt.masks.to_ndarray().reshape(len(gt), -1).sum(axis=1) > 0).all()
            seen_labels |= set(gt.labels.tolist())
        assert seen_labels <= shape_labels and len(seen_labels) >= 2

    # With the three demo classes as metainfo the labels become 0..2.
    dataset_cfg.metainfo = dict(classes=tuple(COCO_SHAPE_CATEGORIES))
    dataset = build_dataset('mmdet', dataset_cfg)
    labels = {label for index in range(len(dataset))
              for label in get_item('mmdet', dataset, index)['data_samples'].gt_instances
              .labels.tolist()}
    assert labels <= {0, 1, 2} and len(labels) >= 2


def test_mmpose_coco_topdown(demo_data):
    cfg = packaged_config('mmpose', 'body_2d_keypoint/topdown_heatmap/coco/'
                                    'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')
    coco_root = demo_data / 'coco'
    train_persons = len(json.loads(
        (coco_root / 'annotations/person_keypoints_train2017.json').read_text())['annotations'])
    train_cfg = cfg.train_dataloader.dataset
    train_cfg.data_root = str(coco_root)
    dataset = build_dataset('mmpose', train_cfg)
    assert dataset.data_mode == 'topdown'
    assert len(dataset) == train_persons
    assert dataset.metainfo['num_keypoints'] == 17
    sample = get_item('mmpose', dataset, 0)
    assert tuple(sample['inputs'].shape) == (3, 256, 192)
    assert tuple(sample['data_samples'].gt_fields.heatmaps.shape) == (17, 64, 48)
    assert tuple(sample['data_samples'].gt_instances.keypoints.shape) == (1, 17, 2)

    val_cfg = cfg.val_dataloader.dataset
    val_cfg.data_root = str(coco_root)
    val_cfg.bbox_file = str(
        coco_root / 'person_detection_results/COCO_val2017_detections_AP_H_56_person.json')
    dataset = build_dataset('mmpose', val_cfg)
    detections = json.loads(Path(val_cfg.bbox_file).read_text())
    assert len(dataset) == len(detections) > 0
    sample = get_item('mmpose', dataset, 0)
    assert tuple(sample['inputs'].shape) == (3, 256, 192)


def test_mmpose_coco_metric_on_ground_truth(demo_data):
    """mmpose's evaluator reads the val keypoints; the truth scores AP 1, shifted joints less."""
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from mmpose.evaluation.metrics import CocoMetric

    ann_file = demo_data / 'coco/annotations/person_keypoints_val2017.json'
    annotations = json.loads(ann_file.read_text())['annotations']

    def average_precision(shift):
        metric = CocoMetric(ann_file=str(ann_file))
        metric.dataset_meta = parse_pose_metainfo(
            dict(from_file='configs/_base_/datasets/coco.py'))
        samples = []
        for ann in annotations:
            keypoints = np.array(ann['keypoints'], np.float32).reshape(1, 17, 3)[..., :2]
            samples.append(dict(
                id=ann['id'], img_id=ann['image_id'],
                pred_instances=dict(keypoints=keypoints + shift,
                                    keypoint_scores=np.ones((1, 17))),
                gt_instances=dict(bbox_scales=np.array([ann['bbox'][2:]]))))
        metric.process([], samples)
        return metric.evaluate(len(samples))['coco/AP']

    assert average_precision(shift=0) == pytest.approx(1.0)
    assert average_precision(shift=6) < 0.9


def test_mmdet_coco_metric_on_ground_truth(demo_data):
    """mmdet's evaluator reads the val instances; the truth scores bbox and segm mAP 1."""
    import torch
    from mmdet.datasets import CocoDataset
    from mmdet.evaluation import CocoMetric

    ann_file = demo_data / 'coco/annotations/instances_val2017.json'
    coco = COCO(str(ann_file))
    metric = CocoMetric(ann_file=str(ann_file), metric=['bbox', 'segm'])
    metric.dataset_meta = CocoDataset.METAINFO  # the 80 classes of an unchanged COCO model
    label_of = {category['id']: label for label, category in enumerate(coco.dataset['categories'])}
    samples = []
    for image_id in coco.getImgIds():
        info = coco.loadImgs(image_id)[0]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        samples.append(dict(
            img_id=image_id, ori_shape=(info['height'], info['width']),
            pred_instances=dict(
                bboxes=torch.tensor([[x, y, x + w, y + h] for x, y, w, h in
                                     (ann['bbox'] for ann in anns)]),
                scores=torch.ones(len(anns)),
                labels=torch.tensor([label_of[ann['category_id']] for ann in anns]),
                masks=torch.from_numpy(np.stack([coco.annToMask(ann) for ann in anns])).bool())))
    metric.process([], samples)
    results = metric.evaluate(len(samples))
    assert results['coco/bbox_mAP'] == pytest.approx(1.0)
    assert results['coco/segm_mAP'] == pytest.approx(1.0)


@pytest.mark.parametrize('name', ['ade20k', 'cityscapes'])
def test_mmseg_datasets(demo_data, name):
    from mmseg.datasets import ADE20KDataset, CityscapesDataset

    cfg = packaged_config('mmseg', f'_base_/datasets/{name}.py')
    if name == 'ade20k':
        root = demo_data / ADE_ROOT
        classes = ADE20KDataset.METAINFO['classes']
        for label, class_name, _ in (ADE_BACKGROUND, ADE_FLOOR, *ADE_OBJECTS):
            assert classes[label - 1] == class_name
        # reduce_zero_label: file label L becomes L - 1, and 0 ("other") becomes 255.
        expected = {label - 1 for label, *_ in (ADE_BACKGROUND, ADE_FLOOR, *ADE_OBJECTS)} | {255}
    else:
        root = demo_data / 'cityscapes'
        classes = CityscapesDataset.METAINFO['classes']
        for class_name, (train_id, _) in CITYSCAPES_CLASSES.items():
            assert classes[train_id] == class_name
        expected = {train_id for train_id, _ in CITYSCAPES_CLASSES.values()} | {255}
    for loader, count in ((cfg.train_dataloader, NUM_TRAIN), (cfg.val_dataloader, NUM_VAL)):
        dataset_cfg = loader.dataset
        dataset_cfg.data_root = str(root)
        dataset = build_dataset('mmseg', dataset_cfg)
        assert len(dataset) == count
        seen = set()
        for index in range(len(dataset)):
            sample = get_item('mmseg', dataset, index)
            seen |= set(np.unique(sample['data_samples'].gt_sem_seg.data.numpy()).tolist())
        assert seen <= expected and len(seen) >= 5
    if name == 'ade20k':
        # Label 0 pixels exist in the files and reach the model as ignore (255).
        dataset_cfg.pipeline = [dict(type='LoadAnnotations', reduce_zero_label=True)]
        dataset = build_dataset('mmseg', dataset_cfg)
        info = dataset.get_data_info(0)
        raw = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
        loaded = get_item('mmseg', dataset, 0)['gt_seg_map']
        np.testing.assert_array_equal(loaded == 255, raw == 0)
        np.testing.assert_array_equal(loaded[raw > 0], raw[raw > 0] - 1)


# ------------------------------------------------------------------------------------------------
# Labels follow from pixels
# ------------------------------------------------------------------------------------------------
def coco_instance_pairs(coco_root, split):
    coco = COCO(str(coco_root / f'annotations/instances_{split}2017.json'))
    pairs = []
    for image_id in coco.getImgIds():
        info = coco.loadImgs(image_id)[0]
        labels = np.zeros((info['height'], info['width']), np.int64)  # 0: background
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=image_id)):
            labels[coco.annToMask(ann) > 0] = ann['category_id']
        pairs.append((cv2.imread(str(coco_root / f'{split}2017' / info['file_name'])), labels))
    return pairs


def test_coco_classes_follow_from_pixels(demo_data):
    accuracy, centroids = nearest_colour_accuracy(
        coco_instance_pairs(demo_data / 'coco', 'train'),
        coco_instance_pairs(demo_data / 'coco', 'val'))
    assert accuracy > 0.95
    # Mean colours of background and the three classes are far apart.
    gaps = np.linalg.norm(centroids[:, None] - centroids[None], axis=-1)
    assert gaps[np.triu_indices(len(centroids), 1)].min() > 60


def seg_pairs(image_paths, label_path_of):
    return [(cv2.imread(str(path)), cv2.imread(str(label_path_of(path)), cv2.IMREAD_UNCHANGED))
            for path in image_paths]


def test_ade20k_labels_follow_from_pixels(demo_data):
    root = demo_data / ADE_ROOT

    def pairs(folder):
        return seg_pairs(sorted((root / 'images' / folder).glob('*.jpg')),
                         lambda p: root / 'annotations' / folder / f'{p.stem}.png')

    accuracy, centroids = nearest_colour_accuracy(pairs('training'), pairs('validation'),
                                                  ignore=(0,))
    assert accuracy > 0.95
    assert len(centroids) == 2 + len(ADE_OBJECTS)


def test_cityscapes_labels_follow_from_pixels(demo_data):
    root = demo_data / 'cityscapes'

    def pairs(split):
        return seg_pairs(
            sorted((root / 'leftImg8bit' / split).glob('*/*.png')),
            lambda p: (root / 'gtFine' / split / p.parent.name /
                       p.name.replace('_leftImg8bit', '_gtFine_labelTrainIds')))

    accuracy, centroids = nearest_colour_accuracy(pairs('train'), pairs('val'), ignore=(255,))
    assert accuracy > 0.95
    assert len(centroids) == len(CITYSCAPES_CLASSES)


def test_keypoints_follow_from_pixels(demo_data):
    """Joint types have their own colour; left and right follow from the figure's handedness."""
    def joint_colours(split):
        coco_root = demo_data / 'coco'
        coco = COCO(str(coco_root / f'annotations/person_keypoints_{split}2017.json'))
        colours, types = [], []
        for ann in coco.loadAnns(coco.getAnnIds()):
            image = cv2.imread(str(coco_root / f'{split}2017' / f'{ann["image_id"]:012d}.jpg'))
            keypoints = np.array(ann['keypoints']).reshape(17, 3)
            assert ann['num_keypoints'] == (keypoints[:, 2] == 2).sum()
            assert set(keypoints[:, 2]) <= {0, 2}
            for name, (x, y, visibility) in zip(COCO_KEYPOINT_NAMES, keypoints):
                if visibility:
                    colours.append(image[int(round(y)), int(round(x))])
                    types.append(name.split('_')[-1])
            for part in ('shoulder', 'hip'):  # the figures face the camera
                left = keypoints[COCO_KEYPOINT_NAMES.index(f'left_{part}')]
                right = keypoints[COCO_KEYPOINT_NAMES.index(f'right_{part}')]
                if left[2] and right[2]:
                    assert left[0] > right[0]
        type_ids = {name: i for i, name in enumerate(sorted(set(types)))}
        return np.array(colours, np.float32), np.array([type_ids[t] for t in types])

    train_colours, train_types = joint_colours('train')
    val_colours, val_types = joint_colours('val')
    assert len(set(train_types.tolist())) == 9
    accuracy, _ = nearest_colour_accuracy([(train_colours, train_types)],
                                          [(val_colours, val_types)])
    assert accuracy > 0.9
