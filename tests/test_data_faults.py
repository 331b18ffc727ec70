"""Bad data files and annotations end in one line naming them (mmvitx/datasets/checked.py), the
skip mode counts them, and tools/misc/check_dataset.py finds every planted fault.

Each test copies the demo data (tests/conftest.py) into tmp_path and corrupts the copy, then builds
the dataset exactly as the recipes configure it, with only data_root (and the pose val set's
bbox_file) overridden, as --cfg-options would.
"""
import functools
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger
from mmengine.registry import DATASETS, DefaultScope

import mmvitx  # noqa: F401 (registers the checked datasets)
from mmvitx.datasets import DataFaultError
from mmvitx.testing.logs import logged_warnings
from mmvitx.utils.toolbox import configure_bad_sample_skipping, data_fault_line

REPO = Path(__file__).resolve().parents[1]
RECIPES = REPO / 'configs' / '_base_' / 'recipes'
# The dataset of each demo dataset: the recipe that reads it and its root below the demo data.
DEMO = {
    'coco': ('cascade-mask-rcnn_fpn_ms-3x_coco.py', 'coco'),
    'coco_pose': ('heatmap_coco-256x192.py', 'coco'),
    'ade20k': ('upernet_ade20k-512x512.py', 'ade/ADEChallengeData2016'),
    'cityscapes': ('ocr_cityscapes-512x1024.py', 'cityscapes'),
}
POSE_DETECTIONS = 'person_detection_results/COCO_val2017_detections_AP_H_56_person.json'
LOAD_ONLY = {  # the loading transforms of each recipe, for tests that iterate over a dataset
    'mmseg': [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
              dict(type='PackSegInputs')],
}


@functools.cache
def recipe(name):
    return Config.fromfile(RECIPES / DEMO[name][0])


def dataset_config(name, split, root, **overrides):
    """The recipe's ``split`` dataset config, pointed at ``root`` (below it, the demo layout)."""
    cfg = recipe(name)
    dataset = cfg[f'{split}_dataloader'].dataset
    dataset = dataset.get('dataset', dataset).copy()  # RepeatDataset
    dataset.data_root = str(root / DEMO[name][1])
    if name == 'coco_pose' and split != 'train':
        dataset.bbox_file = str(root / 'coco' / POSE_DETECTIONS)
    dataset.update(overrides)
    return dataset, cfg.default_scope


def build(name, split, root, **overrides):
    dataset_cfg, scope = dataset_config(name, split, root, **overrides)
    with DefaultScope.overwrite_default_scope(scope):
        return DATASETS.build(dataset_cfg)


def get_item(dataset, index, scope):
    with DefaultScope.overwrite_default_scope(scope):
        return dataset[index]


@pytest.fixture
def data(demo_data, tmp_path):
    """A copy of the demo data to corrupt."""
    shutil.copytree(demo_data, tmp_path / 'demo')
    return tmp_path / 'demo'


def one_line_error(excinfo) -> str:
    message = str(excinfo.value)
    assert '\n' not in message, message
    return message


def seg_pair(data, name, split, index):
    """(image path, label path) of a segmentation sample, in the dataset's order."""
    dataset = build(name, split, data, lazy_init=True)
    dataset.full_init()
    info = dataset.get_data_info(index)
    return Path(info['img_path']), Path(info['seg_map_path'])


def coco_file(data, kind, split='train'):
    return data / 'coco' / 'annotations' / f'{kind}_{split}2017.json'


def edit_json(path, change):
    content = json.loads(path.read_text())
    change(content)
    path.write_text(json.dumps(content))
    return content


# --------------------------------------------------------------------------------------------
# Files that fail when loaded: one line naming the file, at training and at test time
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize('name,split', [('ade20k', 'train'), ('cityscapes', 'val'),
                                        ('coco', 'train'), ('coco_pose', 'val')])
def test_zero_byte_image(data, name, split):
    dataset = build(name, split, data)
    image = Path(dataset.get_data_info(1)['img_path'])
    image.write_bytes(b'')
    with pytest.raises(DataFaultError) as excinfo:
        get_item(dataset, 1, recipe(name).default_scope)
    assert one_line_error(excinfo) == f'{image}: empty file: zero-byte file'


def test_truncated_label_png(data):
    image, label = seg_pair(data, 'cityscapes', 'train', 2)
    label.write_bytes(label.read_bytes()[:len(label.read_bytes()) // 2])
    dataset = build('cityscapes', 'train', data)
    with pytest.raises(DataFaultError) as excinfo:
        get_item(dataset, 2, 'mmseg')
    message = one_line_error(excinfo)
    assert message.startswith(f'{label}: truncated image: image file is truncated')


@pytest.mark.parametrize('name,value,shown', [
    ('cityscapes', 30, '30'),  # a labelIds value (tunnel) where labelTrainIds go up to 18
    ('ade20k', 151, '150 after reduce_zero_label'),  # ADE20K labels are 0..150
])
def test_label_values_out_of_range(data, name, value, shown):
    image, label = seg_pair(data, name, 'val', 0)
    labels = cv2.imread(str(label), cv2.IMREAD_UNCHANGED)
    labels[:10, :10] = value
    cv2.imwrite(str(label), labels)
    dataset = build(name, 'val', data)
    with pytest.raises(DataFaultError) as excinfo:
        get_item(dataset, 0, 'mmseg')
    message = one_line_error(excinfo)
    assert message.startswith(f'{label}: label value out of range: values {shown} outside [0, ')


def test_label_size_differs_from_image(data):
    """The recipes resize and crop image and label together: a label of another size would be
    misaligned, silently. An error, before any resize or crop."""
    image, label = seg_pair(data, 'ade20k', 'train', 3)
    labels = cv2.imread(str(label), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(str(label), cv2.resize(labels, (100, 80), interpolation=cv2.INTER_NEAREST))
    height, width = cv2.imread(str(image)).shape[:2]
    dataset = build('ade20k', 'train', data)
    with pytest.raises(DataFaultError) as excinfo:
        get_item(dataset, 3, 'mmseg')
    assert one_line_error(excinfo) == (f'{label}: label size differs from image: label map is '
                                       f'80x100 (HxW), its image {height}x{width}')


def test_image_size_differs_from_annotation(data):
    dataset = build('coco', 'train', data)
    info = dataset.get_data_info(0)
    image = cv2.imread(info['img_path'])
    cv2.imwrite(info['img_path'], cv2.resize(image, (100, 50)))
    with pytest.raises(DataFaultError) as excinfo:
        get_item(dataset, 0, 'mmdet')
    assert one_line_error(excinfo) == (
        f'{info["img_path"]}: image size differs from annotation: image is 50x100 (HxW), '
        f'{coco_file(data, "instances")} says {info["height"]}x{info["width"]}')


def test_image_size_is_checked_as_loaded_where_the_pipeline_resizes_first(data):
    """mmdet's test pipeline resizes (to 1333x800) before it loads the annotations: the size
    check after LoadAnnotations must compare the image as loaded, not as resized."""
    dataset = build('coco', 'val', data)
    assert [t['type'] for t in dataset_config('coco', 'val', data)[0].pipeline[:3]] == [
        'LoadImageFromFile', 'Resize', 'LoadAnnotations']
    assert get_item(dataset, 0, 'mmdet')['inputs'].shape[-2:] != (
        dataset.get_data_info(0)['height'], dataset.get_data_info(0)['width'])
    info = dataset.get_data_info(1)
    cv2.imwrite(info['img_path'], cv2.resize(cv2.imread(info['img_path']), (100, 50)))
    with pytest.raises(DataFaultError) as excinfo:
        get_item(dataset, 1, 'mmdet')
    assert 'image size differs from annotation: image is 50x100 (HxW)' in one_line_error(excinfo)


def test_error_from_a_dataloader_worker_ends_in_the_line(data):
    """torch re-raises a worker's error in the main process with the worker's traceback as its
    message: the line naming the file is its last line (the tools print only that line)."""
    dataset = build('ade20k', 'train', data, pipeline=LOAD_ONLY['mmseg'])
    image = Path(dataset.get_data_info(0)['img_path'])
    image.write_bytes(b'')
    loader = torch.utils.data.DataLoader(dataset, batch_size=1, num_workers=1,
                                         collate_fn=pseudo_collate)
    with DefaultScope.overwrite_default_scope('mmseg'), pytest.raises(DataFaultError) as excinfo:
        next(iter(loader))
    assert str(excinfo.value).splitlines()[-1].endswith(f'{image}: empty file: zero-byte file')
    assert data_fault_line(excinfo.value) == f'{image}: empty file: zero-byte file'


# --------------------------------------------------------------------------------------------
# Annotation faults: at dataset construction, naming file, annotation id and image
# --------------------------------------------------------------------------------------------
def first_annotation(content):
    ann = content['annotations'][0]
    image = next(i for i in content['images'] if i['id'] == ann['image_id'])
    return ann, image


@pytest.mark.parametrize('field', ['bbox', 'category_id'])
def test_coco_annotation_missing_field(data, field):
    path = coco_file(data, 'instances')
    content = edit_json(path, lambda c: c['annotations'][0].pop(field))
    ann, image = first_annotation(content)
    with pytest.raises(DataFaultError) as excinfo:
        build('coco', 'train', data)
    assert one_line_error(excinfo) == (
        f'{path}: missing field: annotation id {ann["id"]} (image id {ann["image_id"]}, '
        f'{image["file_name"]}) has no "{field}"')


def test_coco_empty_annotation_list(data):
    path = coco_file(data, 'instances', 'val')
    edit_json(path, lambda c: c.update(annotations=[]))
    with pytest.raises(DataFaultError) as excinfo:
        build('coco', 'val', data)
    assert one_line_error(excinfo) == f'{path}: no annotations: the "annotations" list is empty'


def test_coco_negative_box_width(data):
    """mmdet drops such a box silently; [x, y, w, h] with w < 0 is a broken converter: an
    error."""
    path = coco_file(data, 'instances')
    content = edit_json(path, lambda c: c['annotations'][2]['bbox'].__setitem__(2, -5.0))
    ann = content['annotations'][2]
    with pytest.raises(DataFaultError) as excinfo:
        build('coco', 'train', data)
    message = one_line_error(excinfo)
    assert message.startswith(f'{path}: negative box size: annotation id {ann["id"]} (image id '
                              f'{ann["image_id"]}, {ann["image_id"]:012d}.jpg): bbox ')


def test_coco_degenerate_box_is_a_warning(data):
    """Real COCO has a few boxes under a pixel; mmdet drops them. A warning naming it."""
    path = coco_file(data, 'instances')
    content = edit_json(path, lambda c: c['annotations'][1]['bbox'].__setitem__(3, 0.0))
    ann = content['annotations'][1]
    with logged_warnings() as lines:
        dataset = build('coco', 'train', data)
    assert len(dataset) == 24
    assert [line for line in lines if 'degenerate box' in line] == [
        f'{path}: degenerate box: annotation id {ann["id"]} (image id {ann["image_id"]}, '
        f'{ann["image_id"]:012d}.jpg): bbox {ann["bbox"]} is under 1 pixel wide or high; the '
        f'dataset drops it']


@pytest.mark.parametrize('split', ['train', 'val'])
def test_pose_wrong_keypoint_count(data, split):
    path = coco_file(data, 'person_keypoints', split)
    content = edit_json(path, lambda c: c['annotations'][0].update(
        keypoints=c['annotations'][0]['keypoints'][:30]))
    ann, image = first_annotation(content)
    with pytest.raises(DataFaultError) as excinfo:
        build('coco_pose', split, data)
    assert one_line_error(excinfo) == (
        f'{path}: wrong keypoint count: annotation id {ann["id"]} (image id {ann["image_id"]}, '
        f'{image["file_name"]}): "keypoints" has 30 values, the dataset has 17 keypoints (x, y, '
        f'visibility each: 51)')


def test_pose_annotation_without_keypoints(data):
    """mmpose skips it silently: every annotation of a keypoint file has keypoints (all zero
    where none is labelled), so a missing one is a broken file: an error."""
    path = coco_file(data, 'person_keypoints')
    content = edit_json(path, lambda c: c['annotations'][1].pop('keypoints'))
    ann = content['annotations'][1]
    with pytest.raises(DataFaultError) as excinfo:
        build('coco_pose', 'train', data)
    assert one_line_error(excinfo).startswith(
        f'{path}: missing field: annotation id {ann["id"]} (image id {ann["image_id"]}, ')
    assert one_line_error(excinfo).endswith('has no "keypoints"')


def test_several_faults_name_the_first_and_count_the_rest(data):
    path = coco_file(data, 'instances')
    content = edit_json(path, lambda c: [c['annotations'][i].pop('bbox') for i in (0, 1, 2)])
    with pytest.raises(DataFaultError) as excinfo:
        build('coco', 'train', data)
    assert one_line_error(excinfo).endswith(
        f'annotation id {content["annotations"][0]["id"]} (image id '
        f'{content["annotations"][0]["image_id"]}, {content["annotations"][0]["image_id"]:012d}'
        f'.jpg) has no "bbox" (and 2 more annotation faults; tools/misc/check_dataset.py CONFIG '
        f'lists all)')


# --------------------------------------------------------------------------------------------
# Skip mode
# --------------------------------------------------------------------------------------------
def test_skip_mode_counts_across_workers(data, tmp_path):
    """Two dataloader worker processes skip two bad samples per epoch; the shared log counts each
    skip, and each bad sample is logged once over two epochs."""
    # the worker processes inherit the handler, and append to the same file
    log_file = logging.FileHandler(tmp_path / 'log.txt')
    MMLogger.get_current_instance().addHandler(log_file)
    dataset = build('ade20k', 'train', data, pipeline=LOAD_ONLY['mmseg'], skip_bad_samples=True)
    bad = [Path(dataset.get_data_info(i)['img_path']) for i in (4, 9)]
    bad[0].write_bytes(b'')
    bad[1].write_bytes(bad[1].read_bytes()[:100])
    loader = torch.utils.data.DataLoader(dataset, batch_size=4, num_workers=2,
                                         collate_fn=pseudo_collate, persistent_workers=True)
    with DefaultScope.overwrite_default_scope('mmseg'):
        for _ in range(2):
            images = sum(len(batch['inputs']) for batch in loader)
            assert images == len(dataset)  # the bad samples were replaced by others
            assert dataset.bad_sample_log.take_skips() == 2
    assert dataset.bad_sample_log.seen().nonzero()[0].tolist() == [4, 9]
    MMLogger.get_current_instance().removeHandler(log_file)
    log_file.close()
    log = (tmp_path / 'log.txt').read_text()
    for path in bad:
        assert log.count(f'skipped a bad training sample (skip_bad_samples): {path}:') == 1


def test_skip_mode_leaves_bad_samples_out_of_val(data):
    """In val/test a replacement sample would be counted twice by the metric: the bad samples are
    found when the dataset is built and left out, with a warning that the metric changes."""
    image, label = seg_pair(data, 'cityscapes', 'val', 5)
    label.write_bytes(b'not a png')
    with logged_warnings() as lines:
        dataset = build('cityscapes', 'val', data, skip_bad_samples=True)
    assert len(dataset) == 7
    assert str(image) not in [dataset.get_data_info(i)['img_path'] for i in range(7)]
    assert [str(fault) for fault in dataset.excluded_bad_samples] == [
        f'{label}: undecodable image: not an image file PIL can read']
    assert lines == [f'left out of the val/test set (skip_bad_samples): {label}: undecodable '
                     f'image: not an image file PIL can read; the metric is computed without it']


def test_skip_flag_sets_the_datasets_and_adds_the_hook():
    cfg = Config.fromfile(RECIPES / DEMO['coco'][0])
    assert not configure_bad_sample_skipping(cfg, ('train_dataloader', 'val_dataloader'), False)
    assert 'custom_hooks' not in cfg or not any(
        hook.type == 'BadSampleHook' for hook in cfg.custom_hooks)
    assert configure_bad_sample_skipping(cfg, ('train_dataloader', 'val_dataloader'), True)
    assert cfg.train_dataloader.dataset.dataset.skip_bad_samples is True  # inside RepeatDataset
    assert cfg.val_dataloader.dataset.skip_bad_samples is True
    assert cfg.val_dataloader.dataset.test_mode is True  # leaves bad samples out
    assert 'skip_bad_samples' not in cfg.test_dataloader.dataset
    assert [hook.type for hook in cfg.custom_hooks].count('BadSampleHook') == 1
    # the key alone, set in a config, adds the hook too
    cfg = Config.fromfile(RECIPES / DEMO['ade20k'][0])
    cfg.test_dataloader.dataset.skip_bad_samples = True
    assert configure_bad_sample_skipping(cfg, ('test_dataloader', ), False)
    assert [hook.type for hook in cfg.custom_hooks] == ['BadSampleHook']
    # only the checked datasets can skip
    cfg.train_dataloader.dataset.type = 'ADE20KDataset'
    with pytest.raises(Exception, match="needs mmvitx's checked datasets"):
        configure_bad_sample_skipping(cfg, ('train_dataloader', ), True)


@pytest.mark.slow
def test_train_tool_skips_and_reports(data, tmp_path):
    """tools/train.py --skip-bad-samples on the tiny FCN config (iteration-based, like mmseg's
    recipes), with two dataloader workers: the counts are reported at each validation and at the
    end of training; without the flag the run stops with the one line."""
    config = tmp_path / 'tiny.py'
    config.write_text(
        f"_base_ = ['{REPO / 'tests/data/tiny_fcn_ade20k.py'}']\n"
        f"train_dataloader = dict(num_workers=2, dataset=dict(type='CheckedADE20KDataset'))\n"
        f"val_dataloader = dict(dataset=dict(type='CheckedADE20KDataset'))\n"
        f"test_dataloader = dict(dataset=dict(type='CheckedADE20KDataset'))\n")
    root = data / DEMO['ade20k'][1]
    bad = sorted((root / 'images/training').glob('*.jpg'))[::3]  # 8 of 24
    for path in bad:
        path.write_bytes(b'')
    command = [sys.executable, str(REPO / 'tools/train.py'), str(config), '--work-dir',
               str(tmp_path / 'work'), '--cfg-options',
               f'train_dataloader.dataset.data_root={root}',
               f'val_dataloader.dataset.data_root={root}', 'default_hooks.checkpoint=None',
               'train_cfg.max_iters=4', 'train_cfg.val_interval=2']
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(command + ['--skip-bad-samples'], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    skipped = [path for path in bad if f'(skip_bad_samples): {path}: empty file' in log]
    assert skipped, log[-3000:]
    assert all(log.count(f'(skip_bad_samples): {path}:') == 1 for path in skipped)
    assert 'iteration 2: skipped' in log or 'iteration 2: no bad training samples' in log
    assert 'training finished: ' in log and f'({len(skipped)} distinct)' in log
    assert 'val: no bad samples left out (skip_bad_samples).' in log

    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=300)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('train.py: error: ') and ': empty file: zero-byte file' in last
    assert any(str(path) in last for path in bad)


# --------------------------------------------------------------------------------------------
# tools/misc/check_dataset.py finds every planted fault
# --------------------------------------------------------------------------------------------
def load_check_tool():
    spec = importlib.util.spec_from_file_location(
        'check_dataset', REPO / 'tools/misc/check_dataset.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_check_tool(capsys, name, data, *options):
    root = data / DEMO[name][1]
    train_key = 'train_dataloader.dataset.dataset' if name == 'coco' else \
        'train_dataloader.dataset'
    overrides = [f'{train_key}.data_root={root}', f'val_dataloader.dataset.data_root={root}']
    if name == 'coco_pose':
        overrides.append(f'val_dataloader.dataset.bbox_file={root / POSE_DETECTIONS}')
    status = load_check_tool().main([str(RECIPES / DEMO[name][0]), *options,
                                     '--cfg-options', *overrides])
    return status, capsys.readouterr().out


def test_check_tool_coco_instances(data, capsys):
    train = coco_file(data, 'instances')
    content = json.loads(train.read_text())
    anns = content['annotations']
    anns[0].pop('category_id')
    anns[1]['bbox'][2] = -3.0
    anns[2]['bbox'][3] = 0.5
    train.write_text(json.dumps(content))
    images = data / 'coco/train2017'
    empty, truncated = images / content['images'][3]['file_name'], \
        images / content['images'][4]['file_name']
    empty.write_bytes(b'')
    truncated.write_bytes(truncated.read_bytes()[:2000])
    resized = images / content['images'][5]['file_name']
    cv2.imwrite(str(resized), cv2.resize(cv2.imread(str(resized)), (64, 48)))
    edit_json(coco_file(data, 'instances', 'val'), lambda c: c.update(annotations=[]))

    status, out = run_check_tool(capsys, 'coco', data, '--workers', '2')
    assert status == 1
    lines = out.splitlines()
    where = lambda i: f'annotation id {anns[i]["id"]} (image id {anns[i]["image_id"]}'  # noqa
    expected = [
        f'error: {train}: missing field: {where(0)}',
        f'error: {train}: negative box size: {where(1)}',
        f'warning: {train}: degenerate box: {where(2)}',
        f'error: {empty}: empty file: zero-byte file',
        f'error: {truncated}: truncated image: image file is truncated',
        f'error: {resized}: image size differs from annotation: image is 48x64 (HxW)',
        f'error: {coco_file(data, "instances", "val")}: no annotations',
    ]
    for prefix in expected:
        assert sum(line.startswith(prefix) for line in lines) == 1, f"{prefix}\n{out}"
    assert sum(line.startswith(('error: ', 'warning: ')) for line in lines) == len(expected), out
    assert '6 errors' in out and '1 warnings' in out


def test_check_tool_coco_keypoints(data, capsys):
    train = coco_file(data, 'person_keypoints')
    content = json.loads(train.read_text())
    anns = content['annotations']
    anns[0]['keypoints'] = anns[0]['keypoints'][:30]
    anns[1].pop('keypoints')
    anns[2].pop('bbox')
    train.write_text(json.dumps(content))
    empty = data / 'coco/val2017' / json.loads(
        coco_file(data, 'person_keypoints', 'val').read_text())['images'][0]['file_name']
    empty.write_bytes(b'')

    status, out = run_check_tool(capsys, 'coco_pose', data, '--workers', '1')
    assert status == 1
    lines = out.splitlines()
    expected = [
        f'error: {train}: wrong keypoint count: annotation id {anns[0]["id"]} ',
        f'error: {train}: missing field: annotation id {anns[1]["id"]} ',
        f'error: {train}: missing field: annotation id {anns[2]["id"]} ',
        f'error: {empty}: empty file: zero-byte file',
    ]
    for prefix in expected:
        assert sum(line.startswith(prefix) for line in lines) == 1, f"{prefix}\n{out}"
    assert sum(line.startswith(('error: ', 'warning: ')) for line in lines) == len(expected), out


@pytest.mark.parametrize('name', ['ade20k', 'cityscapes'])
def test_check_tool_segmentation(data, capsys, name):
    pairs = [seg_pair(data, name, 'train', i) for i in range(4)] + [seg_pair(data, name, 'val', 0)]
    pairs[0][0].write_bytes(b'')  # zero-byte image
    label = pairs[1][1]  # truncated label PNG
    label.write_bytes(label.read_bytes()[:len(label.read_bytes()) // 2])
    labels = cv2.imread(str(pairs[2][1]), cv2.IMREAD_UNCHANGED)  # a label of another size
    cv2.imwrite(str(pairs[2][1]), labels[:-8])
    height = labels.shape[0]
    labels = cv2.imread(str(pairs[3][1]), cv2.IMREAD_UNCHANGED)  # values out of range
    labels[0, 0] = 200
    cv2.imwrite(str(pairs[3][1]), labels)
    pairs[4][1].write_bytes(b'')  # zero-byte label in val

    status, out = run_check_tool(capsys, name, data, '--workers', '2')
    assert status == 1
    lines = out.splitlines()
    expected = [
        f'error: {pairs[0][0]}: empty file: zero-byte file',
        f'error: {pairs[1][1]}: truncated image: image file is truncated',
        f'error: {pairs[2][1]}: label size differs from image: label map is {height - 8}x',
        f'error: {pairs[3][1]}: label value out of range: values '
        f'{199 if name == "ade20k" else 200}',
        f'error: {pairs[4][1]}: empty file: zero-byte file',
    ]
    for prefix in expected:
        assert sum(line.startswith(prefix) for line in lines) == 1, f"{prefix}\n{out}"
    assert sum(line.startswith(('error: ', 'warning: ')) for line in lines) == len(expected), out


def test_check_tool_clean_data(demo_data, capsys):
    status, out = run_check_tool(capsys, 'cityscapes', demo_data, '--split', 'train', 'val',
                                 '--workers', '1')
    assert status == 0, out
    assert 'checked 32 samples' in out and '0 errors' in out and '0 warnings' in out
