"""glibc malloc settings for mmvitx's command-line tools (train, test, benchmark).

By default glibc gives freed memory back to the system: blocks of 32 MiB or more (smaller ones
until its adaptive threshold has grown) are mapped afresh for each request and unmapped when
freed, and the heap is trimmed whenever enough of its top is free. PyTorch's CPU tensors come
straight from malloc, so the activations of every forward pass then cost a page fault per 4 KiB
page on first touch, and more of them as inputs grow: HRFormer-T's inference at 1024x1024 faults
in 0.7 GB per pass (its 64-channel stride-2 stem map and 256-channel stage-1 maps are 64 MiB
each) and spends a fifth of its time on it. Measured on 2 threads, HRFormer-T took 4.0x as long at
1024x1024 as at 512x512 with glibc's defaults, and 3.2x with freed memory kept for reuse.

:func:`keep_freed_memory` makes glibc take all memory from its heap and keep what is freed
(``mallopt(M_MMAP_MAX, 0)`` and a trim threshold of 2 GiB), as PyTorch's CUDA caching allocator
does on the GPU: once the heap has grown to the working set, freed blocks are reused. The price is
resident memory that stays at the heap's size instead of shrinking between steps (HRFormer-T
inference at 1024x1024: 174 000 page faults per forward pass before, none after; 994 MiB resident
instead of 734). The tools call it at start-up; importing mmvitx does not. Set
``MMVITX_KEEP_FREED_MEMORY=0`` to keep glibc's defaults. Elsewhere (other C libraries, other
systems) it does nothing.
"""
import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
ENV_VAR = 'MMVITX_KEEP_FREED_MEMORY'


def keep_freed_memory() -> bool:
    """Apply the settings above; returns whether they are in effect."""
    if os.environ.get(ENV_VAR, '1') == '0' or not sys.platform.startswith('linux'):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's C library: glibc has mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
