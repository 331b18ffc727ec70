"""Small, deterministic, *learnable* demo datasets in the real on-disk formats.

The generated data lets every mmvitx config run end to end (train, val, test) on a CPU in minutes
without downloading COCO, ADE20K or Cityscapes: the toolboxes' own packaged dataset configs read
it with only ``data_root`` changed (plus ``bbox_file`` for mmpose's top-down val set).

Layout under the output directory::

    coco/train2017/*.jpg, coco/val2017/*.jpg          shape images and person images (12-digit ids)
    coco/annotations/instances_{train,val}2017.json          COCO instances (shape images only)
    coco/annotations/person_keypoints_{train,val}2017.json   COCO keypoints (person images only)
    coco/person_detection_results/COCO_val2017_detections_AP_H_56_person.json
    ade/ADEChallengeData2016/images/{training,validation}/*.jpg
    ade/ADEChallengeData2016/annotations/{training,validation}/*.png
    cityscapes/leftImg8bit/{train,val}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    cityscapes/gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png

What is in the images, and why a small network can learn it quickly:

* Every image has a textured background (smooth colour variations plus pixel noise), and every
  class has its own saturated colour (mildly jittered per instance) *and* its own shape, so both
  colour and shape identify the class. Objects are large (20-50 % of the image side).
* ``coco`` (instances, ~320x240): 1-3 non-overlapping objects on a muted grey background;
  'sports ball' (category 37) orange discs, 'kite' (38) green triangles, 'tv' (72) blue rotated
  rectangles. Annotations carry the exact polygon that was drawn, its box and area. The files
  list all 80 COCO categories, so mmdet's labels are the usual 80-class ones (32, 33 and 62);
  ``metainfo=dict(classes=('sports ball', 'kite', 'tv'))`` turns them into 0, 1 and 2.
* ``coco_pose`` (keypoints, ~320x240): 1-2 stick-figure persons (black limbs, head outline) whose
  17 COCO joints are drawn as coloured discs. Left/right joint pairs share a colour per joint type
  (9 colours) and are told apart by the body's handedness: the figures face the camera, so the
  person's left side is on the image's right. This keeps the labels consistent under the
  horizontal flip augmentation of mmpose, which swaps left and right labels. Joints outside the
  image have visibility 0 and coordinates (0, 0), the others visibility 2. The box is the joint
  extent plus a margin; the segmentation is the outline of the drawn figure.
* ``ade20k`` (~256x256, label PNG 0..150, 0 = "other" is ignored via ``reduce_zero_label``):
  'wall' (1) background, 'floor' (4) band at the bottom, 'windowpane' (9) light-blue rectangles,
  'plant' (18) green triangles, 'painting' (23) dark-red upright rectangles, 'lamp' (37) yellow
  discs, and grey scribbles labelled 0.
* ``cityscapes`` (512x256, train-id PNG 0..18, 255 = ignore): 'sky' (10) above a random horizon,
  'road' (0) below it, 'building' (2) brown blocks, 'vegetation' (8) green tree crowns,
  'traffic sign' (7) yellow triangles, 'car' (13) dark-blue car silhouettes, and a black ego-vehicle
  hood at the bottom labelled 255, as in the real dataset.

Every image is drawn from its own random generator seeded by (seed, dataset, split, index), so the
output is byte-identical for the same seed and options, and the pixels of an image do not depend on
``--only`` or on the image counts (COCO image ids run on from train into val, though). Images are
written with OpenCV (JPEG at a fixed quality, PNG at a fixed compression level).
"""
import json
import math
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

DEMO_DATASETS = ('coco', 'coco_pose', 'ade20k', 'cityscapes')

# Fixed per-dataset / per-split keys of the random streams (never reorder: it would change data).
_DATASET_KEYS = {'coco': 0, 'coco_pose': 1, 'ade20k': 2, 'cityscapes': 3}
_SPLIT_KEYS = {'train': 0, 'val': 1}

JPEG_QUALITY = 92
PNG_COMPRESSION = 1
# cv2's fixed-point drawing: coordinates are multiplied by 2**_SHIFT for sub-pixel accuracy.
_SHIFT = 4

# Person images get ids from this offset on, so they never clash with the shape images that
# share the coco/{train,val}2017 folders.
PERSON_IMAGE_ID_OFFSET = 500000

# The 80 COCO detection categories as (id, name), grouped by supercategory. The instances files
# list all of them, as the real ones do, so mmdet numbers the classes exactly as for real COCO and
# unchanged 80-class models and evaluators work; only the three shape classes below occur.
COCO_CATEGORY_GROUPS = {
    'person': ((1, 'person'),),
    'vehicle': ((2, 'bicycle'), (3, 'car'), (4, 'motorcycle'), (5, 'airplane'), (6, 'bus'),
                (7, 'train'), (8, 'truck'), (9, 'boat')),
    'outdoor': ((10, 'traffic light'), (11, 'fire hydrant'), (13, 'stop sign'),
                (14, 'parking meter'), (15, 'bench')),
    'animal': ((16, 'bird'), (17, 'cat'), (18, 'dog'), (19, 'horse'), (20, 'sheep'), (21, 'cow'),
               (22, 'elephant'), (23, 'bear'), (24, 'zebra'), (25, 'giraffe')),
    'accessory': ((27, 'backpack'), (28, 'umbrella'), (31, 'handbag'), (32, 'tie'),
                  (33, 'suitcase')),
    'sports': ((34, 'frisbee'), (35, 'skis'), (36, 'snowboard'), (37, 'sports ball'),
               (38, 'kite'), (39, 'baseball bat'), (40, 'baseball glove'), (41, 'skateboard'),
               (42, 'surfboard'), (43, 'tennis racket')),
    'kitchen': ((44, 'bottle'), (46, 'wine glass'), (47, 'cup'), (48, 'fork'), (49, 'knife'),
                (50, 'spoon'), (51, 'bowl')),
    'food': ((52, 'banana'), (53, 'apple'), (54, 'sandwich'), (55, 'orange'), (56, 'broccoli'),
             (57, 'carrot'), (58, 'hot dog'), (59, 'pizza'), (60, 'donut'), (61, 'cake')),
    'furniture': ((62, 'chair'), (63, 'couch'), (64, 'potted plant'), (65, 'bed'),
                  (67, 'dining table'), (70, 'toilet')),
    'electronic': ((72, 'tv'), (73, 'laptop'), (74, 'mouse'), (75, 'remote'), (76, 'keyboard'),
                   (77, 'cell phone')),
    'appliance': ((78, 'microwave'), (79, 'oven'), (80, 'toaster'), (81, 'sink'),
                  (82, 'refrigerator')),
    'indoor': ((84, 'book'), (85, 'clock'), (86, 'vase'), (87, 'scissors'), (88, 'teddy bear'),
               (89, 'hair drier'), (90, 'toothbrush')),
}
# The drawn classes: COCO name -> (category id, shape, RGB colour).
COCO_SHAPE_CATEGORIES = {
    'sports ball': (37, 'disc', (235, 125, 30)),
    'kite': (38, 'triangle', (55, 185, 65)),
    'tv': (72, 'rectangle', (45, 80, 215)),
}

COCO_KEYPOINT_NAMES = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
    'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
    'left_knee', 'right_knee', 'left_ankle', 'right_ankle')
# The COCO person skeleton, 1-based keypoint indices as in the official annotation files.
COCO_SKELETON = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9),
    (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7))
# One colour per joint type; 'left_x' and 'right_x' share the colour of 'x' (see module docs).
JOINT_TYPE_COLOURS = {
    'nose': (230, 30, 30), 'eye': (250, 230, 30), 'ear': (235, 60, 220),
    'shoulder': (40, 200, 40), 'elbow': (30, 215, 230), 'wrist': (40, 60, 245),
    'hip': (250, 140, 20), 'knee': (150, 70, 240), 'ankle': (250, 250, 250)}
LIMB_COLOUR = (25, 25, 25)

# ADE20K: (label in the PNG, name in mmseg's ADE20KDataset, RGB colour).
ADE_BACKGROUND = (1, 'wall', (200, 185, 160))
ADE_FLOOR = (4, 'floor', (115, 80, 50))
ADE_OBJECTS = (
    (9, 'windowpane', (150, 205, 240)),
    (18, 'plant', (50, 140, 45)),
    (23, 'painting', (150, 30, 45)),
    (37, 'lamp', (245, 215, 70)),
)
# Cityscapes: name in mmseg's CityscapesDataset -> (train id, RGB colour).
CITYSCAPES_CLASSES = {
    'road': (0, (90, 90, 95)),
    'building': (2, (150, 105, 75)),
    'traffic sign': (7, (235, 210, 30)),
    'vegetation': (8, (55, 145, 45)),
    'sky': (10, (130, 180, 235)),
    'car': (13, (30, 45, 150)),
}
CITYSCAPES_IGNORE = 255
CITYSCAPES_CITIES = {'train': ('aachen', 'bochum'), 'val': ('frankfurt', 'lindau')}

Logger = Callable[[str], None]


# --------------------------------------------------------------------------------------------
# Drawing helpers
# --------------------------------------------------------------------------------------------
def _image_rng(seed: int, dataset: str, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, _DATASET_KEYS[dataset], _SPLIT_KEYS[split], index])


def _smooth_field(rng: np.random.Generator, height: int, width: int, cell: int,
                  channels: int) -> np.ndarray:
    """Zero-mean, roughly unit-variance noise that varies smoothly over ``cell`` pixels."""
    grid = rng.standard_normal((height // cell + 2, width // cell + 2, channels), np.float32)
    field = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return field.reshape(height, width, channels)


def _textured(rng: np.random.Generator, height: int, width: int, rgb: Sequence[float],
              amplitude: float) -> np.ndarray:
    """A float RGB canvas of colour ``rgb`` with smooth variations, mostly in brightness."""
    brightness = _smooth_field(rng, height, width, cell=48, channels=1)
    tint = _smooth_field(rng, height, width, cell=48, channels=3)
    grain = _smooth_field(rng, height, width, cell=6, channels=1)
    return np.asarray(rgb, np.float32) + amplitude * (brightness + 0.3 * tint + 0.4 * grain)


def _jitter(rng: np.random.Generator, rgb: Sequence[int], amount: float = 12) -> np.ndarray:
    return np.asarray(rgb, np.float32) + rng.uniform(-amount, amount, 3).astype(np.float32)


def _fixed_point(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points) * (1 << _SHIFT)).astype(np.int32)


def _polygon_coverage(shape: Tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    """Anti-aliased uint8 coverage (0..255) of a filled polygon given as (N, 2) float xy."""
    canvas = np.zeros(shape, np.uint8)
    cv2.fillPoly(canvas, [_fixed_point(polygon)], 255, lineType=cv2.LINE_AA, shift=_SHIFT)
    return canvas


def _paint(image: np.ndarray, coverage: np.ndarray, rgb: np.ndarray,
           label_map: Optional[np.ndarray] = None, label: int = 0) -> None:
    """Blend ``rgb`` into ``image`` by ``coverage``; pixels covered at least half get ``label``."""
    x, y, w, h = cv2.boundingRect(coverage)  # blend only where something was drawn: faster
    roi = np.s_[y:y + h, x:x + w]
    alpha = coverage[roi].astype(np.float32)[..., None] / 255
    image[roi] += alpha * (rgb - image[roi])
    if label_map is not None:
        label_map[roi][coverage[roi] >= 128] = label


def _finish(rng: np.random.Generator, image: np.ndarray, noise: float = 5.0) -> np.ndarray:
    """Add sensor-like pixel noise and quantise to uint8 RGB."""
    image = image + noise * rng.standard_normal(image.shape, np.float32)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def _muted_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A greyish textured background, far from every object colour in saturation."""
    grey = rng.uniform(70, 180)
    tint = rng.uniform(-12, 12, 3)
    return _textured(rng, height, width, grey + tint, amplitude=20)


def _write_jpeg(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise OSError(f'could not write {path}')


def _write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = array[..., ::-1] if array.ndim == 3 else array  # RGB -> OpenCV's BGR
    if not cv2.imwrite(str(path), pixels, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION]):
        raise OSError(f'could not write {path}')


def _write_json(path: Path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, separators=(',', ':')))


def _disc(cx: float, cy: float, radius: float, vertices: int = 40) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    return np.stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)], axis=1)


def _rotated_rectangle(cx: float, cy: float, width: float, height: float,
                       angle: float) -> np.ndarray:
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * [width / 2, height / 2]
    return corners @ _rotation(angle).T + [cx, cy]


def _triangle(cx: float, cy: float, radius: float, angle: float) -> np.ndarray:
    angles = angle + np.array([0, 2 * np.pi / 3, 4 * np.pi / 3])
    return np.stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)], axis=1)


def _rotation(angle: float) -> np.ndarray:
    return np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])


def _boxes_overlap(box: Sequence[float], others: Sequence[Sequence[float]],
                   margin: float) -> bool:
    """Whether xyxy ``box`` grown by ``margin`` intersects any of the xyxy ``others``."""
    x1, y1, x2, y2 = box
    return any(x1 - margin < ox2 and ox1 < x2 + margin and y1 - margin < oy2 and oy1 < y2 + margin
               for ox1, oy1, ox2, oy2 in others)


def _xyxy(points: np.ndarray) -> List[float]:
    return [*points.min(axis=0).tolist(), *points.max(axis=0).tolist()]


def _coco_header(description: str) -> dict:
    return {
        'info': {'description': description, 'version': '1.0', 'year': 2024,
                 'contributor': 'mmvitx', 'date_created': '2024-01-01'},
        'licenses': [{'id': 1, 'name': 'generated', 'url': ''}],
    }


def _coco_image(image_id: int, width: int, height: int) -> dict:
    return {'id': image_id, 'file_name': f'{image_id:012d}.jpg', 'width': width,
            'height': height, 'license': 1}


def _rounded(values, digits: int = 2) -> List[float]:
    return [round(float(v), digits) for v in values]


# --------------------------------------------------------------------------------------------
# COCO instances: discs, triangles and rectangles
# --------------------------------------------------------------------------------------------
def _shape_polygon(rng: np.random.Generator, shape: str, size: float) -> np.ndarray:
    """The polygon of one shape of characteristic size ``size``, centred at the origin."""
    if shape == 'disc':
        return _disc(0, 0, size / 2)
    if shape == 'triangle':
        return _triangle(0, 0, 0.6 * size, rng.uniform(0, 2 * np.pi))
    return _rotated_rectangle(0, 0, size, size * rng.uniform(0.6, 0.8),
                              np.deg2rad(rng.uniform(-15, 15)))


def _draw_shape_image(rng: np.random.Generator) -> Tuple[np.ndarray, List[dict]]:
    height, width = int(rng.choice([224, 240, 256])), int(rng.choice([288, 320, 352]))
    image = _muted_background(rng, height, width)
    boxes, objects = [], []
    for _ in range(rng.integers(1, 4)):
        name = tuple(COCO_SHAPE_CATEGORIES)[rng.integers(len(COCO_SHAPE_CATEGORIES))]
        category_id, shape, rgb = COCO_SHAPE_CATEGORIES[name]
        # Rejection sampling keeps objects apart, so every polygon is fully visible.
        for _attempt in range(30):
            polygon = _shape_polygon(rng, shape, rng.uniform(0.2, 0.5) * min(height, width))
            low, high = polygon.min(axis=0), polygon.max(axis=0)
            centre = rng.uniform([2 - low[0], 2 - low[1]],
                                 [width - 3 - high[0], height - 3 - high[1]])
            polygon = polygon + centre
            box = _xyxy(polygon)
            if not _boxes_overlap(box, boxes, margin=4):
                break
        else:
            continue
        boxes.append(box)
        _paint(image, _polygon_coverage((height, width), polygon), _jitter(rng, rgb))
        x1, y1, x2, y2 = box
        area = 0.5 * abs(np.dot(polygon[:, 0], np.roll(polygon[:, 1], 1)) -
                         np.dot(polygon[:, 1], np.roll(polygon[:, 0], 1)))
        objects.append({'category_id': category_id, 'bbox': _rounded([x1, y1, x2 - x1, y2 - y1]),
                        'area': round(float(area), 2),
                        'segmentation': [_rounded(polygon.reshape(-1))], 'iscrowd': 0})
    return _finish(rng, image), objects


def _generate_coco_instances(root: Path, seed: int, counts: Dict[str, int], log: Logger) -> None:
    categories = [{'id': category_id, 'name': name, 'supercategory': supercategory}
                  for supercategory, members in COCO_CATEGORY_GROUPS.items()
                  for category_id, name in members]
    image_id, annotation_id = 1, 1
    for split, count in counts.items():
        images, annotations = [], []
        for index in range(count):
            rng = _image_rng(seed, 'coco', split, index)
            pixels, objects = _draw_shape_image(rng)
            _write_jpeg(root / f'{split}2017' / f'{image_id:012d}.jpg', pixels)
            images.append(_coco_image(image_id, pixels.shape[1], pixels.shape[0]))
            for obj in objects:
                annotations.append({'id': annotation_id, 'image_id': image_id, **obj})
                annotation_id += 1
            image_id += 1
        ann_file = root / 'annotations' / f'instances_{split}2017.json'
        _write_json(ann_file, {**_coco_header('mmvitx demo shapes'), 'images': images,
                               'annotations': annotations, 'categories': categories})
        log(f'[coco] {split}: {len(images)} images, {len(annotations)} objects -> '
            f'{root / f"{split}2017"}, {ann_file}')


# --------------------------------------------------------------------------------------------
# COCO keypoints: stick figures
# --------------------------------------------------------------------------------------------
def _joint_type(name: str) -> str:
    return name.split('_')[-1]


def _stick_figure_pose(rng: np.random.Generator) -> np.ndarray:
    """(17, 2) joints of a person facing the camera, hips at the origin, about 1 unit tall.

    Image y points down; the person's left side has positive x (the image's right).
    """
    def limb(start, length, angle_from_down, side):
        # ``side`` mirrors the angle so positive angles always point away from the body.
        return start + length * np.array([side * math.sin(angle_from_down),
                                          math.cos(angle_from_down)])

    joints = {}
    head = np.array([rng.uniform(-0.03, 0.03), -0.42])
    joints['nose'] = head + [rng.uniform(-0.015, 0.015), 0.02]
    for name, side in (('left', 1), ('right', -1)):
        joints[f'{name}_eye'] = head + [side * 0.035, -0.02]
        joints[f'{name}_ear'] = head + [side * 0.075, 0.0]
        shoulder = np.array([side * 0.12, -0.30])
        upper_arm = np.deg2rad(rng.uniform(15, 160))
        forearm = np.clip(upper_arm + np.deg2rad(rng.uniform(-70, 70)), 0, np.pi)
        elbow = limb(shoulder, 0.16, upper_arm, side)
        joints[f'{name}_shoulder'] = shoulder
        joints[f'{name}_elbow'] = elbow
        joints[f'{name}_wrist'] = limb(elbow, 0.15, forearm, side)
        hip = np.array([side * 0.08, 0.0])
        thigh = np.deg2rad(rng.uniform(-5, 35))
        shin = np.clip(thigh + np.deg2rad(rng.uniform(-30, 30)), np.deg2rad(-15), np.deg2rad(60))
        knee = limb(hip, 0.24, thigh, side)
        joints[f'{name}_hip'] = hip
        joints[f'{name}_knee'] = knee
        joints[f'{name}_ankle'] = limb(knee, 0.24, shin, side)
    return np.stack([joints[name] for name in COCO_KEYPOINT_NAMES])


def _draw_person(image: np.ndarray, rng: np.random.Generator, joints: np.ndarray,
                 head_centre: np.ndarray, scale: float) -> np.ndarray:
    """Draw one figure into ``image``; returns its binary silhouette."""
    height, width = image.shape[:2]
    index = {name: i for i, name in enumerate(COCO_KEYPOINT_NAMES)}
    thickness = max(2, int(round(0.022 * scale)))
    body = np.zeros((height, width), np.uint8)
    shoulders_mid = (joints[index['left_shoulder']] + joints[index['right_shoulder']]) / 2
    bones = [('left_shoulder', 'right_shoulder'), ('left_hip', 'right_hip'),
             ('left_shoulder', 'left_hip'), ('right_shoulder', 'right_hip')]
    for side in ('left', 'right'):
        bones += [(f'{side}_shoulder', f'{side}_elbow'), (f'{side}_elbow', f'{side}_wrist'),
                  (f'{side}_hip', f'{side}_knee'), (f'{side}_knee', f'{side}_ankle')]
    lines = [(joints[index[a]], joints[index[b]]) for a, b in bones]
    lines.append((head_centre + (shoulders_mid - head_centre) * 0.75, shoulders_mid))  # neck
    for start, end in lines:
        cv2.line(body, tuple(_fixed_point(start)), tuple(_fixed_point(end)), 255, thickness,
                 cv2.LINE_AA, _SHIFT)
    cv2.circle(body, tuple(_fixed_point(head_centre)), int(_fixed_point(0.085 * scale)), 255,
               thickness, cv2.LINE_AA, _SHIFT)
    _paint(image, body, _jitter(rng, LIMB_COLOUR, 8))
    silhouette = body >= 128
    disc_radius = max(2.5, 0.022 * scale)
    for name, (x, y) in zip(COCO_KEYPOINT_NAMES, joints):
        disc = _polygon_coverage((height, width), _disc(x, y, disc_radius, vertices=16))
        _paint(image, disc, _jitter(rng, JOINT_TYPE_COLOURS[_joint_type(name)], 10))
        silhouette |= disc >= 128
    return silhouette


def _silhouette_polygons(silhouette: np.ndarray) -> List[List[float]]:
    contours, _ = cv2.findContours(silhouette.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    return [_rounded(c.reshape(-1), 1) for c in contours if len(c) >= 3]


def _draw_person_image(rng: np.random.Generator) -> Tuple[np.ndarray, List[dict]]:
    height, width = int(rng.choice([224, 240, 256])), int(rng.choice([288, 320, 352]))
    image = _muted_background(rng, height, width)
    boxes, persons = [], []
    for _ in range(rng.integers(1, 3)):
        for _attempt in range(30):
            scale = rng.uniform(0.45, 0.85) * height  # person height in pixels
            rotation = _rotation(np.deg2rad(rng.uniform(-25, 25)))
            pose = _stick_figure_pose(rng)
            head = pose[[3, 4]].mean(axis=0)  # between the ears
            local = np.concatenate([pose, head[None]]) @ rotation.T * scale
            low, high = local.min(axis=0), local.max(axis=0)
            # Let figures stick out of the image by up to 10 % of their size (truncation).
            slack = 0.1 * (high - low)
            offset = rng.uniform(-low - slack, [width, height] - high + slack)
            placed = local + offset
            margin = 0.08 * scale  # also covers the head outline above the eyes
            box = [*(placed.min(axis=0) - margin), *(placed.max(axis=0) + margin)]
            if not _boxes_overlap(box, boxes, margin=4):
                break
        else:
            continue
        boxes.append(box)
        joints, head_centre = placed[:17], placed[17]
        silhouette = _draw_person(image, rng, joints, head_centre, scale)
        inside = ((joints[:, 0] >= 0) & (joints[:, 0] <= width - 1) &
                  (joints[:, 1] >= 0) & (joints[:, 1] <= height - 1))
        keypoints = np.zeros((17, 3))
        keypoints[inside, :2] = joints[inside]
        keypoints[inside, 2] = 2
        x1, y1 = max(box[0], 0.0), max(box[1], 0.0)
        x2, y2 = min(box[2], float(width)), min(box[3], float(height))
        persons.append({
            'category_id': 1, 'bbox': _rounded([x1, y1, x2 - x1, y2 - y1]),
            'keypoints': [round(float(v), 2) if i % 3 < 2 else int(v)
                          for i, v in enumerate(keypoints.reshape(-1))],
            'num_keypoints': int(inside.sum()), 'area': float(silhouette.sum()),
            'segmentation': _silhouette_polygons(silhouette), 'iscrowd': 0})
    return _finish(rng, image), persons


def _generate_coco_keypoints(root: Path, seed: int, counts: Dict[str, int],
                             log: Logger) -> None:
    categories = [{'id': 1, 'name': 'person', 'supercategory': 'person',
                   'keypoints': list(COCO_KEYPOINT_NAMES),
                   'skeleton': [list(pair) for pair in COCO_SKELETON]}]
    image_id = annotation_id = PERSON_IMAGE_ID_OFFSET + 1
    for split, count in counts.items():
        images, annotations, detections = [], [], []
        for index in range(count):
            rng = _image_rng(seed, 'coco_pose', split, index)
            pixels, persons = _draw_person_image(rng)
            _write_jpeg(root / f'{split}2017' / f'{image_id:012d}.jpg', pixels)
            images.append(_coco_image(image_id, pixels.shape[1], pixels.shape[0]))
            for person in persons:
                annotations.append({'id': annotation_id, 'image_id': image_id, **person})
                annotation_id += 1
                # A mock person detector: the true box, slightly perturbed, high confidence.
                x, y, w, h = person['bbox']
                dx, dy, dw, dh = rng.uniform(-0.03, 0.03, 4) * [w, h, w, h]
                detections.append({'image_id': image_id, 'category_id': 1,
                                   'bbox': _rounded([x + dx, y + dy, w + dw, h + dh]),
                                   'score': round(float(rng.uniform(0.85, 1.0)), 4)})
            image_id += 1
        ann_file = root / 'annotations' / f'person_keypoints_{split}2017.json'
        _write_json(ann_file, {**_coco_header('mmvitx demo stick figures'), 'images': images,
                               'annotations': annotations, 'categories': categories})
        log(f'[coco_pose] {split}: {len(images)} images, {len(annotations)} persons -> '
            f'{root / f"{split}2017"}, {ann_file}')
        if split == 'val':
            det_file = (root / 'person_detection_results' /
                        'COCO_val2017_detections_AP_H_56_person.json')
            _write_json(det_file, detections)
            log(f'[coco_pose] val: {len(detections)} person detections -> {det_file}')


# --------------------------------------------------------------------------------------------
# ADE20K
# --------------------------------------------------------------------------------------------
def _ade_object_polygon(rng: np.random.Generator, name: str, size: float, cx: float,
                        cy: float) -> np.ndarray:
    if name == 'windowpane':
        return _rotated_rectangle(cx, cy, size, size * rng.uniform(0.7, 1.0), 0)
    if name == 'painting':  # upright, portrait format: differs from windows in shape too
        return _rotated_rectangle(cx, cy, size * 0.6, size, np.deg2rad(rng.uniform(-5, 5)))
    if name == 'lamp':
        return _disc(cx, cy, size / 2)
    return _triangle(cx, cy, 0.6 * size, -np.pi / 2 + np.deg2rad(rng.uniform(-20, 20)))


def _draw_ade_image(rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    height, width = (int(v) for v in rng.choice([224, 240, 256, 272, 288], 2))
    label, _name, wall_rgb = ADE_BACKGROUND
    image = _textured(rng, height, width, _jitter(rng, wall_rgb, 10), amplitude=10)
    labels = np.full((height, width), label, np.uint8)
    if rng.random() < 0.75:
        label, _name, floor_rgb = ADE_FLOOR
        top = int(height * rng.uniform(0.65, 0.85))
        image[top:] = _textured(rng, height - top, width, _jitter(rng, floor_rgb, 10), 10)
        labels[top:] = label
    boxes = []
    for _ in range(rng.integers(1, 5)):
        label, name, rgb = ADE_OBJECTS[rng.integers(len(ADE_OBJECTS))]
        size = rng.uniform(0.2, 0.45) * min(height, width)
        for _attempt in range(20):
            cx = rng.uniform(size / 2, width - size / 2)
            cy = rng.uniform(size / 2, height - size / 2)
            polygon = _ade_object_polygon(rng, name, size, cx, cy)
            if not _boxes_overlap(_xyxy(polygon), boxes, margin=2):
                break
        boxes.append(_xyxy(polygon))  # a failed search still draws: overlaps are labelled exactly
        _paint(image, _polygon_coverage((height, width), polygon), _jitter(rng, rgb), labels, label)
    # Clutter that ADE20K leaves unlabelled ("other", 0); mmseg ignores it (reduce_zero_label).
    for _ in range(rng.integers(0, 3)):
        points = rng.uniform([0, 0], [width, height], (3, 2))
        clutter = np.zeros((height, width), np.uint8)
        cv2.polylines(clutter, [_fixed_point(points)], False, 255, int(rng.integers(3, 7)),
                      cv2.LINE_AA, _SHIFT)
        _paint(image, clutter, np.full(3, rng.uniform(40, 110), np.float32),
               labels, 0)
    return _finish(rng, image), labels


def _generate_ade20k(root: Path, seed: int, counts: Dict[str, int], log: Logger) -> None:
    for split, count in counts.items():
        folder = {'train': 'training', 'val': 'validation'}[split]
        for index in range(count):
            rng = _image_rng(seed, 'ade20k', split, index)
            pixels, labels = _draw_ade_image(rng)
            name = f'ADE_{split}_{index + 1:08d}'  # ADE's own naming: ADE_train_00000001
            _write_jpeg(root / 'images' / folder / f'{name}.jpg', pixels)
            _write_png(root / 'annotations' / folder / f'{name}.png', labels)
        log(f'[ade20k] {split}: {count} images + label maps -> {root / "images" / folder}, '
            f'{root / "annotations" / folder}')
        _warn_about_stale_files(root / 'images' / folder, '.jpg', count, log)


# --------------------------------------------------------------------------------------------
# Cityscapes
# --------------------------------------------------------------------------------------------
def _draw_cityscapes_image(rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    height, width = 256, 512
    classes = CITYSCAPES_CLASSES
    horizon = int(height * rng.uniform(0.4, 0.55))
    sky_id, sky_rgb = classes['sky']
    road_id, road_rgb = classes['road']
    image = _textured(rng, height, width, _jitter(rng, sky_rgb, 8), amplitude=8)
    image[horizon:] = _textured(rng, height - horizon, width, _jitter(rng, road_rgb, 8), 8)
    labels = np.full((height, width), road_id, np.uint8)
    labels[:horizon] = sky_id

    def draw(name, polygon):
        class_id, rgb = classes[name]
        coverage = _polygon_coverage((height, width), polygon)
        _paint(image, coverage, _jitter(rng, rgb), labels, class_id)

    for _ in range(rng.integers(1, 4)):
        building_width = rng.uniform(0.12, 0.3) * width
        x = rng.uniform(0, width - building_width)
        top = horizon * rng.uniform(0.05, 0.6)
        draw('building', np.array([[x, top], [x + building_width, top],
                                   [x + building_width, horizon + 2], [x, horizon + 2]]))
    for _ in range(rng.integers(0, 3)):
        radius = rng.uniform(0.12, 0.22) * height
        draw('vegetation', _disc(rng.uniform(0, width), horizon - rng.uniform(0.3, 0.9) * radius,
                                 radius))
    if rng.random() < 0.6:
        radius = rng.uniform(0.07, 0.11) * height
        centre_y = rng.uniform(radius, horizon - radius)
        draw('traffic sign', _triangle(rng.uniform(radius, width - radius), centre_y, radius,
                                       np.pi / 2))  # pointing down, like a yield sign
    hood_top = height * rng.uniform(0.86, 0.92)
    for _ in range(rng.integers(0, 3)):
        car_width = rng.uniform(0.15, 0.3) * width
        car_height = 0.45 * car_width
        x = rng.uniform(0, width - car_width)
        bottom = rng.uniform(horizon + 0.5 * car_height, hood_top)
        roof = 0.55 * car_height  # the cabin sits on the upper part of the body
        draw('car', np.array([
            [x, bottom], [x, bottom - roof], [x + 0.2 * car_width, bottom - roof],
            [x + 0.3 * car_width, bottom - car_height], [x + 0.7 * car_width, bottom - car_height],
            [x + 0.8 * car_width, bottom - roof], [x + car_width, bottom - roof],
            [x + car_width, bottom]]))
    # The ego vehicle's hood, ignored in Cityscapes' train ids.
    hood = _disc(width / 2, hood_top + width * 1.5, width * 1.5, vertices=180)
    _paint(image, _polygon_coverage((height, width), hood), _jitter(rng, (20, 20, 25), 5), labels,
           CITYSCAPES_IGNORE)
    return _finish(rng, image), labels


def _generate_cityscapes(root: Path, seed: int, counts: Dict[str, int], log: Logger) -> None:
    for split, count in counts.items():
        cities = CITYSCAPES_CITIES[split]
        for index in range(count):
            rng = _image_rng(seed, 'cityscapes', split, index)
            pixels, labels = _draw_cityscapes_image(rng)
            city = cities[index % len(cities)]
            stem = f'{city}_{index // len(cities):06d}_{19 + index:06d}'
            _write_png(root / 'leftImg8bit' / split / city / f'{stem}_leftImg8bit.png', pixels)
            _write_png(root / 'gtFine' / split / city / f'{stem}_gtFine_labelTrainIds.png', labels)
        log(f'[cityscapes] {split}: {count} images + train-id maps -> '
            f'{root / "leftImg8bit" / split}, {root / "gtFine" / split}')
        _warn_about_stale_files(root / 'leftImg8bit' / split, '_leftImg8bit.png', count, log)


def _warn_about_stale_files(folder: Path, suffix: str, written: int, log: Logger) -> None:
    """mmseg lists image folders recursively, so images of an earlier larger run would be read."""
    found = sum(1 for _ in folder.rglob(f'*{suffix}'))
    if found > written:
        log(f'WARNING: {folder} holds {found - written} more *{suffix} files than this run wrote; '
            f'mmseg will read them too. Use an empty output directory.')


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------
def generate_demo_data(out_dir, seed: int = 0, datasets: Sequence[str] = DEMO_DATASETS,
                       num_train: int = 24, num_val: int = 8,
                       log: Optional[Logger] = None) -> Dict[str, Path]:
    """Write the demo datasets under ``out_dir`` (layout in the module docstring).

    Args:
        out_dir: Output root, created if missing.
        seed: Non-negative random seed; the same seed gives byte-identical files.
        datasets: Any of ``DEMO_DATASETS``.
        num_train: Images per dataset in the training split.
        num_val: Images per dataset in the validation split.
        log: Called with one progress line per written split (silent when None).

    Returns:
        The ``data_root`` of each generated dataset, keyed by dataset name.
    """
    unknown = set(datasets) - set(DEMO_DATASETS)
    if unknown:
        raise ValueError(f'unknown demo datasets {sorted(unknown)}; choose from {DEMO_DATASETS}')
    if seed < 0:
        raise ValueError(f'seed must be non-negative, got {seed}')
    if num_train < 1 or num_val < 1 or num_train + num_val >= PERSON_IMAGE_ID_OFFSET:
        raise ValueError(f'need 1 <= num_train, num_val and num_train + num_val < '
                         f'{PERSON_IMAGE_ID_OFFSET}; got {num_train}, {num_val}')
    log = log or (lambda message: None)
    out_dir = Path(out_dir)
    counts = {'train': num_train, 'val': num_val}
    roots = {'coco': out_dir / 'coco', 'coco_pose': out_dir / 'coco',
             'ade20k': out_dir / 'ade' / 'ADEChallengeData2016',
             'cityscapes': out_dir / 'cityscapes'}
    writers = {'coco': _generate_coco_instances, 'coco_pose': _generate_coco_keypoints,
               'ade20k': _generate_ade20k, 'cityscapes': _generate_cityscapes}
    for name in DEMO_DATASETS:  # fixed order, whatever order ``datasets`` has
        if name in datasets:
            writers[name](roots[name], seed, counts, log)
    return {name: roots[name] for name in DEMO_DATASETS if name in datasets}
