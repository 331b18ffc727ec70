"""Safe checkpoint loading for mmengine 0.10.7 under torch >= 2.6.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``: it unpickles only tensors,
containers, primitive values and an allow-list of types, and refuses files that would run arbitrary
code. mmengine 0.10.7 calls ``torch.load`` without ``weights_only``, and the checkpoints its
``Runner`` saves contain a few types outside torch's default allow-list (numpy arrays and scalars in
``meta['dataset_meta']`` and in the message hub's ``HistoryBuffer`` logs), so its own checkpoints
no longer load (``tools/test.py``, ``load_from``, ``resume``).

Importing this module fixes that without giving up the protection:

* :data:`MMENGINE_CHECKPOINT_GLOBALS`, exactly the types found (with
  ``torch.serialization.get_unsafe_globals_in_checkpoint`` and by loading) in checkpoints saved by
  mmengine Runners of mmdet, mmsegmentation and mmpose, are added to torch's ``weights_only``
  allow-list; ``getattr``, which they need too, only in a form restricted to what they use.
* Local files and ``http(s)://`` URLs are loaded through mmengine's ``CheckpointLoader`` scheme
  registry with ``weights_only=True`` stated explicitly (mmengine's own URL loader goes through
  ``torch.hub.load_state_dict_from_url``, whose default is ``weights_only=False``: it would unpickle
  anything a downloaded file contains). A file that holds other pickled objects raises
  :class:`UnsafeCheckpointError`, which names the file, the offending objects and a way out.

``weights_only`` stays on for every other ``torch.load`` call; nothing in mmengine is patched.
"""
import os
import os.path as osp
import pickle
import re
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

# HistoryBuffer pickles its statistics methods (``HistoryBuffer.min`` ...), which pickle protocol 2
# (torch.save's) writes as ``getattr(HistoryBuffer, 'min')``.
_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_statistic(owner, name: str):
    """Takes the place of ``builtins.getattr`` while unpickling: allows exactly the lookups of
    HistoryBuffer's statistics methods. A real ``getattr`` would let a file reach any attribute of
    any allow-listed object (e.g. a function's ``__globals__``), and then alter it."""
    if owner is HistoryBuffer and name in _HISTORY_BUFFER_STATISTICS:
        return getattr(owner, name)
    raise pickle.UnpicklingError(f'getattr({owner!r}, {name!r}) is not allowed in a checkpoint')


# What checkpoints saved by mmengine Runners of mmdet, mmseg and mmpose contain beyond torch's
# default allow-list, as (object, name in the pickle) where the name is not the object's own:
# numpy 2 pickles its internals under ``numpy._core``, numpy 1.x (older checkpoints) under
# ``numpy.core``, so both spellings are allowed.
MMENGINE_CHECKPOINT_GLOBALS = [
    HistoryBuffer,  # message_hub['log_scalars']
    (_history_buffer_statistic, 'builtins.getattr'),
    # numpy arrays (HistoryBuffer logs, mmpose's dataset_meta) and scalars (message hub's eta)
    np.ndarray,
    np.dtype,
    (np._core.multiarray._reconstruct, 'numpy._core.multiarray._reconstruct'),
    (np._core.multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
    (np._core.multiarray.scalar, 'numpy._core.multiarray.scalar'),
    (np._core.multiarray.scalar, 'numpy.core.multiarray.scalar'),
    # A dtype unpickles as an instance of its concrete class, one per dtype stored: float64 and
    # int64 (HistoryBuffer values and counts, eta), uint8 and float32 (mmpose's keypoint colours
    # and weights).
    np.dtypes.Float64DType,
    np.dtypes.Int64DType,
    np.dtypes.UInt8DType,
    np.dtypes.Float32DType,
]
torch.serialization.add_safe_globals(MMENGINE_CHECKPOINT_GLOBALS)


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint contains pickled objects that ``weights_only`` loading refuses."""


def load_weights_only(filename: str, map_location=None, source: str | None = None):
    """``torch.load(filename, weights_only=True)``, raising :class:`UnsafeCheckpointError` for
    files with objects outside the allow-list. ``source``: where the file came from (a URL)."""
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        origin = filename if source is None else f'{source} (downloaded to {filename})'
        raise UnsafeCheckpointError(
            f'Refused to load the checkpoint {origin}: it contains arbitrary pickled Python '
            f'objects ({_offending_objects(filename, error)}), and unpickling them could run any '
            'code, so it was refused for safety. mmvitx loads checkpoints with '
            'torch.load(weights_only=True), which accepts tensors, plain containers and the '
            'types of mmengine checkpoints only. If you trust the file, re-save its weights alone '
            'and use that file instead:\n'
            '    python -c "import torch; c = torch.load(\'IN.pth\', weights_only=False); '
            'torch.save({\'state_dict\': c.get(\'state_dict\', c)}, \'OUT.pth\')"') from error


def _offending_objects(filename: str, error: Exception) -> str:
    """The globals torch refuses, listed statically from the file; else torch's reason (types
    created while unpickling, e.g. other numpy dtypes, cannot be listed statically)."""
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except (ValueError, RuntimeError):  # legacy, non-zip format
        unsafe = []
    if unsafe:
        return ', '.join(sorted(unsafe))
    reason = re.search(r'WeightsUnpickler error:\s*(.+?)\s*(\n\n|$)', str(error), re.DOTALL)
    return reason.group(1) if reason else str(error).strip().splitlines()[-1]


# mmengine prints the loader's name without its first 10 characters ('load_from_'), hence the names.
@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local_weights_only(filename: str, map_location=None):
    """mmengine's loader for local paths (scheme ``''``), with ``weights_only=True``."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return load_weights_only(filename, map_location)


@CheckpointLoader.register_scheme(prefixes=('http://', 'https://'), force=True)
def load_from_http_weights_only(url: str, map_location=None):
    """mmengine's loader for URLs: download into torch's hub cache, then load with
    ``weights_only=True``. Like mmengine's, rank 0 downloads first and the other ranks wait."""
    rank, world_size = get_dist_info()
    if rank == 0:
        path = _download(url)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            path = _download(url)
    return load_weights_only(path, map_location, source=url)


def _download(url: str) -> str:
    """Path of ``url``'s file in torch's hub cache, downloaded if not there yet."""
    cache_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    path = osp.join(cache_dir, osp.basename(urlparse(url).path))
    if not osp.isfile(path):
        os.makedirs(cache_dir, exist_ok=True)
        torch.hub.download_url_to_file(url, path)
    return path
