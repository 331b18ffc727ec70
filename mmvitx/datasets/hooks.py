"""The hook reporting the bad samples that ``skip_bad_samples`` left out (:mod:`.checked`)."""
import numpy as np
import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

from .checked import CheckedDatasetMixin

CHECK_HINT = 'tools/misc/check_dataset.py CONFIG lists every bad file'


def checked_datasets(dataset) -> list[CheckedDatasetMixin]:
    """The checked datasets in ``dataset``, looking through the dataset wrappers (RepeatDataset,
    ClassBalancedDataset: ``.dataset``; ConcatDataset: ``.datasets``)."""
    if isinstance(dataset, CheckedDatasetMixin):
        return [dataset]
    if hasattr(dataset, 'datasets'):
        return [found for inner in dataset.datasets for found in checked_datasets(inner)]
    if hasattr(dataset, 'dataset'):
        return checked_datasets(dataset.dataset)
    return []


@HOOKS.register_module()
class BadSampleHook(Hook):
    """Reports the bad samples skipped in training (at the end of every epoch, or of every
    validation for iteration-based loops such as mmseg's, and at the end of training) and those
    left out of val/test (after their metrics, which are computed without them).

    Dataloader workers record skips in shared memory (:class:`~.checks.BadSampleLog`), read here
    in the main process; in distributed runs the counts are summed over the ranks. In
    iteration-based training the workers read ahead of the model (up to ``prefetch_factor``
    batches per worker), so a count may include samples of the next few iterations.
    """
    priority = 'LOW'  # after LoggerHook has logged the metrics

    def __init__(self):
        self._train_datasets = []
        self._skips = 0

    def before_train(self, runner):
        self._train_datasets = [
            dataset for dataset in checked_datasets(runner.train_loop.dataloader.dataset)
            if dataset.bad_sample_log is not None]

    def after_train_epoch(self, runner):
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            self._report_training(runner, f'epoch {runner.epoch + 1}')
        else:  # iteration-based: called once, at the end
            self._report_training(runner, f'iteration {runner.iter}')

    def after_val_epoch(self, runner, metrics=None):
        if self._train_datasets and not isinstance(runner.train_loop, EpochBasedTrainLoop):
            self._report_training(runner, f'iteration {runner.iter}')
        self._report_left_out(runner, runner.val_loop.dataloader.dataset, 'val')

    def after_test_epoch(self, runner, metrics=None):
        self._report_left_out(runner, runner.test_loop.dataloader.dataset, 'test')

    def after_train(self, runner):
        if not self._train_datasets:
            return
        log = runner.logger.warning if self._skips else runner.logger.info
        log(f'training finished: {self._skips} bad training samples skipped '
            f'({self._distinct()} distinct); the model was trained without them. {CHECK_HINT}.')

    def _report_training(self, runner, when: str):
        if not self._train_datasets:
            return
        skips = int(_sum_over_ranks(np.array(
            [sum(d.bad_sample_log.take_skips() for d in self._train_datasets)]))[0])
        self._skips += skips
        if skips:
            runner.logger.warning(
                f'{when}: skipped {skips} bad training samples since the last report '
                f'({self._distinct()} distinct so far, each logged once above). {CHECK_HINT}.')
        else:
            runner.logger.info(f'{when}: no bad training samples skipped since the last report.')

    def _distinct(self) -> int:
        # a sample may be skipped on several ranks (the samplers reshuffle every epoch)
        return sum(int(_max_over_ranks(d.bad_sample_log.seen()).sum())
                   for d in self._train_datasets)

    @staticmethod
    def _report_left_out(runner, dataset, split: str):
        datasets = [d for d in checked_datasets(dataset) if d.skip_bad_samples]
        if not datasets:
            return
        left_out = [fault for d in datasets for fault in d.excluded_bad_samples]
        if left_out:
            runner.logger.warning(
                f'{split}: {len(left_out)} bad samples were left out (skip_bad_samples, each '
                f'logged when the dataset was built): the {split} metrics are computed without '
                f'them and are not comparable with an evaluation on the complete set. '
                f'{CHECK_HINT}.')
        else:
            runner.logger.info(f'{split}: no bad samples left out (skip_bad_samples).')


def _sum_over_ranks(values: np.ndarray) -> np.ndarray:
    tensor = torch.from_numpy(values.astype(np.int64))
    all_reduce(tensor, op='sum')  # a no-op without distributed training
    return tensor.numpy()


def _max_over_ranks(values: np.ndarray) -> np.ndarray:
    tensor = torch.from_numpy(values.astype(np.int64))
    all_reduce(tensor, op='max')
    return tensor.numpy()
