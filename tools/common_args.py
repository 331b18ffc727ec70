"""Command-line arguments shared by tools/train.py and tools/test.py.

Imports neither torch nor mmvitx (mmengine's DictAction only), so that --help answers at once.
"""
import argparse
import os
import warnings
from collections.abc import Callable

# mmengine, mmcv and the toolboxes import pkg_resources, which setuptools >= 81 deprecates with a
# warning per importing package (four per launch, on every rank): noise for the tools' users,
# nothing they can act on.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated as an API',
                        category=UserWarning)

from mmengine.config import DictAction  # noqa: E402


def parse_tool_args(tool: str, description: str, work_dir_holds: str, cfg_example: str,
                    add_own_arguments: Callable[[argparse.ArgumentParser], None]):
    """Parse the command line of ``tools/{tool}.py``.

    Args:
        tool: ``'train'`` or ``'test'``; names the tool's distributed launcher script.
        description: the tool's docstring, shown by --help.
        work_dir_holds: what the work directory receives, for the --work-dir help.
        cfg_example: example overrides for the --cfg-options help.
        add_own_arguments: adds the tool's own arguments; they are listed after the config and
            --work-dir and before the common options.
    """
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file (mmdet, mmseg or mmpose; default_scope tells)')
    parser.add_argument(
        '--work-dir',
        help=f'directory for {work_dir_holds}; default: work_dir of the config, else '
        './work_dirs/<config file name without extension>')
    add_own_arguments(parser)
    reported, loaders = (('per epoch or validation and at the end', 'train and val')
                         if tool == 'train' else ('after the metrics', 'test'))
    parser.add_argument(
        '--skip-bad-samples',
        action='store_true',
        help=f'go on without bad samples (undecodable images, bad label maps) instead of stopping '
        f'at the first: each is logged once as a warning, the counts are reported {reported}. '
        f'Sets skip_bad_samples=True in the datasets of the {loaders} dataloaders (a config can '
        f'set it there too). Val/test leave bad samples out, which changes the metric')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        metavar='KEY=VALUE',
        help=f'override config entries, e.g. {cfg_example}; lists as key="[a,b]" or key=a,b, '
        'nested lists/tuples as key="[(a,b),(c,d)]" (quotes needed, no spaces)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher: none (one process) or the launcher that started the processes of a '
        f'distributed run (pytorch = torchrun, used by tools/dist_{tool}.sh). Without CUDA, only '
        'pytorch is supported; it then uses the gloo backend')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK instead.
    parser.add_argument(
        '--local-rank', '--local_rank', type=int, default=0,
        help='set by torch.distributed.launch (torchrun uses the LOCAL_RANK variable instead)')
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args
