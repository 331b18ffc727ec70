"""mmvitx: vision-transformer backbones for mmdet, mmsegmentation and mmpose.

Importing the package registers every backbone in MMEngine's root ``MODELS`` registry (and under
the ``mmvitx.`` scope, see :mod:`mmvitx.registry`), and makes checkpoint loading safe and working
under torch >= 2.6 (:mod:`mmvitx.utils.checkpoint`).
"""
from . import datasets, engine, models, utils  # noqa: F401

__version__ = '0.1.0'
