"""Exact resume: carry the random-number generators' states through checkpoints.

mmengine checkpoints hold weights, optimizer, schedulers and message hub, but not the states of the
``random``, ``numpy`` and ``torch`` generators. A resumed run therefore restarts those streams from
the seed, and every random augmentation, dropout and drop-path draw after the resume point differs
from the uninterrupted run. :class:`RandomStateHook` (added by ``tools/train.py``) closes the gap:

* Checkpoints get every rank's generator states in ``checkpoint['random_states']`` (a list indexed
  by rank, plain Python values and tensors, so it loads with ``weights_only=True``), as they were
  when the checkpoint was saved at the end of an iteration or epoch.
* On resume the states are restored right before the first batch is fetched, which is where the
  interrupted run continued after saving: for ``IterBasedTrainLoop`` after mmengine has skipped the
  batches already trained on (skipping runs the data pipeline, which draws random numbers when
  ``num_workers=0``), for epoch-based loops at the start of the next epoch.
* Validation is made neutral to the training streams (states saved in ``before_val``, restored in
  ``after_val``): validation runs after the checkpoint is saved, so otherwise its draws (e.g. the
  seed every ``DataLoader`` iterator takes from torch) would be in the uninterrupted run only.

Data order needs nothing extra as long as ``randomness.seed`` is fixed: mmengine's samplers derive
their order from the seed, and dataloader workers are seeded from it when they start, so replaying
the skipped batches puts them in the same state. Limits (verified, see tests/test_tools.py for the
tested case):

* With ``seed=None`` every run draws a new sampler seed: resume cannot be exact.
* Epoch-based loops are exact for checkpoints saved at epoch ends (mmengine restarts an interrupted
  epoch from its beginning), except for the random augmentation done in dataloader workers when
  they are persistent (``num_workers > 0`` and ``persistent_workers=True``): their generators live
  in the worker processes and carry on across epochs, while a resumed run starts new workers. The
  hook warns in that case. (Iteration-based loops are exact with workers too: the skipped batches
  pass through the new workers.)
"""
import random

import numpy as np
import torch
from mmengine.dist import all_gather_object
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import IterBasedTrainLoop


def get_random_states() -> dict:
    """The states of this process's generators, in types that ``weights_only`` loading accepts."""
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    states = dict(
        python=random.getstate(),
        numpy=(name, keys.tolist(), pos, has_gauss, cached_gaussian),
        torch=torch.get_rng_state())
    if torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_random_states(states: dict) -> None:
    """Restore states returned by :func:`get_random_states`."""
    random.setstate(states['python'])
    name, keys, pos, has_gauss, cached_gaussian = states['numpy']
    np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached_gaussian))
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


class _RestoreAfterSkip:
    """Stands in for ``IterBasedTrainLoop.dataloader_iterator`` during a resume: lets the loop skip
    ``num_skip`` batches, then restores ``states`` just before the next batch is produced and puts
    the original iterator back."""

    def __init__(self, loop: IterBasedTrainLoop, num_skip: int, states: dict):
        self._loop = loop
        self._iterator = loop.dataloader_iterator
        self._num_skip = num_skip
        self._states = states

    def __iter__(self):
        return self

    def __next__(self):
        if self._num_skip > 0:
            self._num_skip -= 1
            return next(self._iterator)
        set_random_states(self._states)
        self._loop.dataloader_iterator = self._iterator
        return next(self._iterator)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the generators' states in checkpoints and restore them on resume (see module doc)."""

    # Before CheckpointHook (VERY_LOW): the states are taken in ``after_train_iter`` /
    # ``after_train_epoch``, on every rank, ahead of the checkpoint saved in the same call.
    priority = 'LOW'

    def __init__(self):
        self._states = None
        self._resume_states = None
        self._resume_iter = None
        self._states_before_val = None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._take_states()

    def after_train_epoch(self, runner) -> None:
        self._take_states()

    def _take_states(self) -> None:
        # Only rank 0 runs ``Runner.save_checkpoint`` (it is master_only), so the other ranks'
        # states are collected here, where every rank passes. Costs one small all_gather per
        # iteration in distributed runs.
        self._states = all_gather_object(get_random_states())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_states'] = self._states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        states = checkpoint.get('random_states')
        if states is None:
            return
        if len(states) != runner.world_size:
            runner.logger.warning(
                f'The checkpoint holds random states of {len(states)} processes but this run has '
                f'{runner.world_size}; random streams restart from the seed instead.')
            return
        # Also called for ``load_from`` (fine-tuning), where nothing must be restored: remember
        # the iteration, the states apply only when training continues from exactly there.
        self._resume_states = states[runner.rank]
        self._resume_iter = checkpoint['meta']['iter']

    def before_train_epoch(self, runner) -> None:
        states, self._resume_states = self._resume_states, None
        if states is None or runner.iter == 0 or runner.iter != self._resume_iter:
            return
        runner.logger.info(f'Restoring the random states saved at iteration {runner.iter}.')
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop):
            loop.dataloader_iterator = _RestoreAfterSkip(loop, runner.iter, states)
            return
        set_random_states(states)
        if getattr(loop.dataloader, 'persistent_workers', False):
            runner.logger.warning(
                'Resume is not exact for the random augmentation in the persistent dataloader '
                'workers: their random streams carry on across epochs in an uninterrupted run but '
                'restart from the seed in new workers.')

    def before_val(self, runner) -> None:
        self._states_before_val = get_random_states()

    def after_val(self, runner) -> None:
        set_random_states(self._states_before_val)
