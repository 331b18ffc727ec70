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
* A file that does not load is examined without unpickling anything
  (:func:`checkpoint_file_problem`: zip structure, first bytes, pickle opcodes read with
  ``pickletools``), and the error names the file and says what it is: missing, empty, not a
  checkpoint (text, safetensors, another format), truncated or corrupt
  (:class:`InvalidCheckpointError`), or holding globals outside the allow-list, by name
  (:class:`UnsafeCheckpointError`). ``tools/train.py --resume`` uses the same check to pass over
  broken checkpoints.

``weights_only`` stays on for every other ``torch.load`` call; nothing in mmengine is patched.
"""
import _compat_pickle
import io
import os
import os.path as osp
import pickle
import pickletools
import re
import zipfile
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader
from torch import _weights_only_unpickler

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


class InvalidCheckpointError(ValueError):
    """A file that is no readable checkpoint: empty, of another format, truncated or corrupt."""


def load_weights_only(filename: str, map_location=None, source: str | None = None):
    """``torch.load(filename, weights_only=True)``. A file that fails to load is examined without
    unpickling anything (:func:`checkpoint_file_problem`): :class:`InvalidCheckpointError` says
    what is wrong with it, :class:`UnsafeCheckpointError` which objects it would have to run.
    ``source``: where the file came from (a URL)."""
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except Exception as error:
        origin = filename if source is None else f'{source} (downloaded to {filename})'
        problem = checkpoint_file_problem(filename, origin=origin)
        if problem is not None:
            raise problem from error
        if isinstance(error, pickle.UnpicklingError):
            # Objects created while unpickling (e.g. other numpy dtypes) cannot be found
            # statically; torch's message names them.
            reason = re.search(r'WeightsUnpickler error:\s*(.+?)\s*(\n\n|$)', str(error),
                               re.DOTALL)
            raise UnsafeCheckpointError(_refusal_message(
                origin, reason.group(1) if reason else str(error).strip().splitlines()[-1])
            ) from error
        error.add_note(f'(while loading the checkpoint {origin})')
        raise


def _refusal_message(origin: str, objects: str) -> str:
    return (f'Refused to load the checkpoint {origin}: it contains arbitrary pickled Python '
            f'objects ({objects}), and unpickling them could run any code, so it was refused for '
            'safety. mmvitx loads checkpoints with torch.load(weights_only=True), which accepts '
            'tensors, plain containers and the types of mmengine checkpoints only. If you trust '
            'the file, re-save its weights alone and use that file instead:\n'
            '    python -c "import torch; c = torch.load(\'IN.pth\', weights_only=False); '
            'torch.save({\'state_dict\': c.get(\'state_dict\', c)}, \'OUT.pth\')"')


# torch.save writes a zip archive (since torch 1.6) or, in the legacy format, a pickle of protocol
# 2 or higher, which starts with the PROTO opcode.
_ZIP_MAGIC = b'PK\x03\x04'
_PICKLE_PROTO = b'\x80'
# The legacy format is five pickles (magic number, protocol, system info, the object, the storage
# keys) followed by raw storage bytes, which must not be read as opcodes.
_LEGACY_PICKLES = 5


def checkpoint_file_problem(filename: str, origin: str | None = None,
                            weights_only: bool = True) -> Exception | None:
    """What makes ``filename`` unloadable, found without unpickling anything, as the exception to
    raise: :class:`InvalidCheckpointError` (missing, empty, not a checkpoint, truncated or
    corrupt) or, with ``weights_only``, :class:`UnsafeCheckpointError` naming the pickled globals
    that torch's allow-list refuses. None where nothing is found wrong. ``origin``: how to name
    the file in the message (default: ``filename``)."""
    origin = filename if origin is None else origin
    if not osp.isfile(filename):
        return InvalidCheckpointError(f'No checkpoint at {origin}: the file does not exist.')
    size = osp.getsize(filename)
    if size == 0:
        return InvalidCheckpointError(
            f'{origin} is empty (0 bytes), not a checkpoint: whatever wrote it (a save, download '
            'or copy) did not finish. Write it again.')
    with open(filename, 'rb') as file:
        head = file.read(len(_ZIP_MAGIC))
        if head == _ZIP_MAGIC:
            return _zip_problem(filename, origin, size, weights_only)
        if head[:1] == _PICKLE_PROTO:
            file.seek(0)
            return _pickle_problem(file, origin, weights_only)
        file.seek(0)
        return InvalidCheckpointError(
            f'{origin} is not a checkpoint: {_describe_format(file.read(512))}. mmvitx reads '
            'torch.save files (a zip archive, or a pickle in the legacy format).')


def _zip_problem(filename: str, origin: str, size: int, weights_only: bool) -> Exception | None:
    try:
        with zipfile.ZipFile(filename) as archive:
            names = archive.namelist()
            data = next((name for name in names if name.endswith('/data.pkl')), None)
            if data is None:
                return InvalidCheckpointError(
                    f'{origin} is a zip archive but not a torch.save checkpoint: it holds no '
                    f'data.pkl (it holds {names[:5]}{" ..." if len(names) > 5 else ""}).')
            pickled = archive.read(data)
    except (zipfile.BadZipFile, EOFError):
        return InvalidCheckpointError(
            f'{origin} is truncated or corrupt: a zip archive ({size} bytes) whose central '
            'directory (at the end of the file) is missing or unreadable, as when a save, download '
            'or copy was interrupted. Write it again.')
    return _pickle_problem(io.BytesIO(pickled), origin, weights_only) if weights_only else None


def _pickle_problem(file, origin: str, weights_only: bool) -> Exception | None:
    try:
        found = _pickled_globals(file)
    except ValueError as error:  # pickletools' message for truncated or invalid opcode streams
        return InvalidCheckpointError(
            f'{origin} is truncated or corrupt: its pickle data cannot be read to the end '
            f'({error}). Write it again.')
    refused = sorted(found - _allowed_globals())
    if weights_only and refused:
        return UnsafeCheckpointError(_refusal_message(origin, ', '.join(refused)))
    return None


def _pickled_globals(file) -> set[str]:
    """The ``module.name`` of every GLOBAL, INST and STACK_GLOBAL in the pickles at the start of
    ``file``, read with ``pickletools.genops`` (nothing is executed). STACK_GLOBAL takes its names
    from the two values pushed before it, so the strings pushed, memoized and fetched from the memo
    are followed."""
    found = set()
    for _ in range(_LEGACY_PICKLES):
        if file.read(1) != _PICKLE_PROTO:
            break
        file.seek(-1, os.SEEK_CUR)
        memo, previous, last = {}, None, None
        for opcode, arg, _ in pickletools.genops(file):
            value = None
            if opcode.name in ('GLOBAL', 'INST'):
                found.add(_python3_name(*arg.split(' ')))
            elif opcode.name == 'STACK_GLOBAL' and isinstance(previous, str) and isinstance(
                    last, str):
                found.add(_python3_name(previous, last))
            elif opcode.name == 'MEMOIZE':
                memo[len(memo)] = last
                continue
            elif opcode.name in ('PUT', 'BINPUT', 'LONG_BINPUT'):
                memo[arg] = last
                continue
            elif opcode.name in ('GET', 'BINGET', 'LONG_BINGET'):
                value = memo.get(arg)
            elif isinstance(arg, str) and 'UNICODE' in opcode.name:
                value = arg
            previous, last = last, value
    return found


def _python3_name(module: str, name: str) -> str:
    """``module.name`` as Python 3 imports it: protocol 2 pickles use Python 2's names (e.g.
    ``__builtin__.getattr``), which unpickling maps as torch's allow-list check does."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    else:
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return f'{module}.{name}'


def _allowed_globals() -> set[str]:
    """The names torch's ``weights_only`` unpickler accepts: its defaults and those added with
    ``add_safe_globals`` (as ``torch.serialization.get_unsafe_globals_in_checkpoint`` reads
    them; that function handles zip archives of protocol 2 only)."""
    return {*_weights_only_unpickler._get_allowed_globals(),
            *_weights_only_unpickler._get_user_allowed_globals()}


def _describe_format(head: bytes) -> str:
    """What the first bytes of a file that is neither a zip archive nor a pickle look like."""
    if len(head) > 9 and head[8:9] == b'{':  # a little-endian header length, then JSON
        return ('it looks like a safetensors file; re-save it for mmvitx with\n    python -c '
                '"import torch, safetensors.torch as st; torch.save(st.load_file(\'IN\'), '
                '\'OUT.pth\')"')
    try:
        text = head.decode()
    except UnicodeDecodeError as error:  # binary, or a character cut at the 512th byte
        text = head[:error.start].decode() if error.start >= len(head) - 3 else None
    if text is not None and all(c.isprintable() or c in '\n\r\t' for c in text):
        return f'it is a text file starting {text.strip()[:60]!r} (an error page? a log?)'
    return f'it starts with the bytes {head[:16]!r}, of another format'


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
