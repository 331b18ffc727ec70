"""mmvitx: vision-transformer backbones for mmdet, mmsegmentation and mmpose.

Importing the package registers every backbone in MMEngine's root ``MODELS`` registry (and under
the ``mmvitx.`` scope, see :mod:`mmvitx.registry`).
"""
from . import models  # noqa: F401

__version__ = '0.1.0'
