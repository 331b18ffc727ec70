"""Test (and evaluate) a checkpoint with an mmdet, mmsegmentation or mmpose config.

The config's default_scope (mmdet / mmseg / mmpose) says which toolbox it belongs to. Metrics
are logged and written to the work directory. Checkpoints are loaded with
torch.load(weights_only=True): files holding arbitrary pickled objects are refused.
Distributed testing: tools/dist_test.sh CONFIG CHECKPOINT NPROC [args].
"""
import os.path as osp
import sys

from common_args import parse_tool_args


def add_test_arguments(parser):
    parser.add_argument('checkpoint', help='checkpoint file (local path or http(s) URL)')
    parser.add_argument(
        '--out',
        help='keep the predictions: mmdet and mmpose dump them into this pickle file (.pkl), '
        'mmseg writes prediction maps as images into this directory')
    parser.add_argument(
        '--show-dir',
        help='draw every test image with its predictions into this directory (the toolbox\'s '
        'visualization hook; mmseg writes under SHOW_DIR/vis_data/vis_image)')


def parse_args():
    return parse_tool_args('test', __doc__, 'the log and metrics', 'test_dataloader.batch_size=2',
                           add_test_arguments)


def main():
    args = parse_args()
    # Imported after parsing, so that --help answers at once. mmvitx registers the backbones;
    # mmvitx.utils the safe checkpoint loading.
    import mmvitx  # noqa: F401
    from mmvitx.datasets import DataFaultError
    from mmvitx.utils.toolbox import (ToolError, add_prediction_dump, build_runner,
                                      check_data_roots, configure_bad_sample_skipping,
                                      data_fault_line, enable_visualization, finish_distributed,
                                      load_config, setup_cpu_distributed)
    from mmvitx.utils.allocator import keep_freed_memory
    keep_freed_memory()  # large CPU activations reuse memory instead of page-faulting afresh
    try:
        if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
            raise ToolError(f'checkpoint {args.checkpoint} does not exist.')
        cfg = load_config(args.config, args.launcher, args.cfg_options, args.work_dir)
        check_data_roots(cfg, ('test_dataloader', ))
        configure_bad_sample_skipping(cfg, ('test_dataloader', ), args.skip_bad_samples)
        cfg.load_from = args.checkpoint
        if args.show_dir:
            enable_visualization(cfg, args.show_dir)
        if args.out:
            add_prediction_dump(cfg, args.out)
        setup_cpu_distributed(cfg)
    except ToolError as error:
        sys.exit(f'test.py: error: {error}')
    try:
        runner = build_runner(cfg)
        runner.test()
    except DataFaultError as error:
        sys.exit(f'test.py: error: {data_fault_line(error)}')
    finish_distributed()


if __name__ == '__main__':
    main()
