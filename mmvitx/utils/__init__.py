"""Runtime support for mmvitx's tools: safe checkpoint loading under torch >= 2.6 (effective on
import) and the hook that makes resumed training exact."""
from .checkpoint import (MMENGINE_CHECKPOINT_GLOBALS, UnsafeCheckpointError,
                         load_weights_only)
from .random_state import RandomStateHook

__all__ = ['MMENGINE_CHECKPOINT_GLOBALS', 'UnsafeCheckpointError', 'load_weights_only',
           'RandomStateHook']
