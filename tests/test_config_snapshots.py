"""Every shipped config resolves to the dict stored in its snapshot.

A leaf config under ``configs/{family}/`` is assembled from a recipe, a backbone fragment and the
toolboxes' packaged configs, so an edit to a shared piece reaches many configs at once. This test
resolves each leaf (``Config.fromfile(path).to_dict()``) and compares it with
``tests/data/config_snapshots/{name}.json``, reporting every differing key by its path.

The snapshots are JSON with sorted keys. Tuples are stored as ``{"__tuple__": [...]}`` so that a
tuple -> list change is reported, and scalars compare with their type (``0`` differs from ``0.0``,
``True`` from ``1``).

Not compared: the top-level names in ``HELPER_KEYS``. They are intermediate values of the config
files (channel lists, a fragment's backbone dicts and no-decay keys, a shared sampler) that the
keys which matter are built from. mmengine keeps every top-level name of a config file, but the
Runner and the toolboxes read only the keys they know (``model``, the dataloaders, ``optim_wrapper``
and so on), so these never reach a model, a dataset or an optimizer; what they feed is compared
where it lands.

To accept a deliberate change, regenerate the snapshots and review their diff before committing:

    MMVITX_UPDATE_CONFIG_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_config_snapshots.py
"""
import json
import os
from pathlib import Path

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / 'configs'
SNAPSHOT_DIR = Path(__file__).resolve().parent / 'data' / 'config_snapshots'
UPDATE = os.environ.get('MMVITX_UPDATE_CONFIG_SNAPSHOTS') == '1'
CONFIGS = sorted(p for p in CONFIG_DIR.rglob('*.py')
                 if '_base_' not in p.relative_to(CONFIG_DIR).parts)
HELPER_KEYS = frozenset({
    # channel lists the necks and heads were given (before the backbone fragments)
    'branch_channels', 'stage_channels', 'level_channels',
    # the OHEM sampler the OCR heads were given (before the OCR recipes)
    'ohem',
    # what a backbone fragment provides (configs/_base_/backbones/)
    'backbone', 'backbone_channels', 'backbone_no_decay', 'backbone_det', 'backbone_ocr',
    'backbone_pose',
    # the plain-ViT fragments' ViTDet and ViTPose options and ViT-B's MAE checkpoint
    'vitdet', 'vitpose', 'mae',
    # the CrossViT fragments' neck (before a leaf config sets its width)
    'pyramid',
})
TUPLE = '__tuple__'


def encode(value, path='cfg'):
    """A resolved config value as JSON data, tuples marked; anything JSON cannot hold is an
    error naming its path."""
    if isinstance(value, dict):
        keys = [key for key in value if not isinstance(key, str)]
        if keys:
            raise TypeError(f'{path}: non-string keys {keys}')
        return {key: encode(item, f'{path}.{key}') for key, item in value.items()}
    if isinstance(value, tuple):
        return {TUPLE: [encode(item, f'{path}[{i}]') for i, item in enumerate(value)]}
    if isinstance(value, list):
        return [encode(item, f'{path}[{i}]') for i, item in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f'{path}: a {type(value).__name__} cannot be stored in a snapshot')


def resolve(path):
    """The config file's resolved dict without the helper keys, as JSON data."""
    cfg = Config.fromfile(path).to_dict()
    return encode({key: value for key, value in cfg.items() if key not in HELPER_KEYS})


def dumps(data):
    return json.dumps(data, indent=1, sort_keys=True) + '\n'


def snapshot_path(path):
    return SNAPSHOT_DIR / f'{Path(path).stem}.json'


def _show(value):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + '...'


def differences(expected, actual, path=''):
    """``path: snapshot -> now`` lines for every leaf value that differs."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(expected.keys() | actual.keys()):
            sub = f'{path}.{key}' if path else key
            if key not in actual:
                yield f'{sub}: {_show(expected[key])} -> (missing)'
            elif key not in expected:
                yield f'{sub}: (missing) -> {_show(actual[key])}'
            else:
                yield from differences(expected[key], actual[key], sub)
    elif (isinstance(expected, list) and isinstance(actual, list)
          and len(expected) == len(actual)):
        for i, (old, new) in enumerate(zip(expected, actual)):
            yield from differences(old, new, f'{path}[{i}]')
    elif type(expected) is not type(actual) or expected != actual:
        yield f'{path}: {_show(expected)} -> {_show(actual)}'


def test_every_snapshot_has_a_config():
    names = {p.stem for p in CONFIGS}
    stale = sorted(p.name for p in SNAPSHOT_DIR.glob('*.json') if p.stem not in names)
    assert not stale, f'snapshots without a config (delete them): {stale}'


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_config_matches_snapshot(path):
    actual = resolve(path)
    stored = snapshot_path(path)
    if UPDATE:
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_text(dumps(actual))
        pytest.skip(f'wrote {stored.relative_to(REPO)}')
    assert stored.exists(), (f'no snapshot for {path.name}; write it with '
                             'MMVITX_UPDATE_CONFIG_SNAPSHOTS=1')
    expected = json.loads(stored.read_text())
    diff = list(differences(expected, actual))
    assert not diff, f'{path.name} resolves differently from its snapshot:\n' + '\n'.join(diff)
