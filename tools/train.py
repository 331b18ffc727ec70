"""Train a model from an mmdet, mmsegmentation or mmpose config with mmengine's Runner.

The config's default_scope (mmdet / mmseg / mmpose) says which toolbox it belongs to; mmvitx's
backbones are registered for all three. Logs, the dumped config and checkpoints go to the work
directory. Distributed training: tools/dist_train.sh CONFIG NPROC [args].
"""
import sys

from common_args import parse_tool_args


def add_train_arguments(parser):
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        metavar='CHECKPOINT',
        help='resume training (weights, optimizer, schedulers, iteration, random states) from '
        'CHECKPOINT; without a value, from the latest checkpoint in the work directory. Resume is '
        'exact when the config fixes randomness.seed')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (AmpOptimWrapper, dynamic loss scale); needs a GPU')


def parse_args():
    return parse_tool_args(
        'train', __doc__, 'logs and checkpoints',
        'train_cfg.max_iters=100 model.backbone.drop_path_rate=0.2', add_train_arguments)


def main():
    args = parse_args()
    # Imported after parsing, so that --help answers at once. mmvitx registers the backbones;
    # mmvitx.utils the safe checkpoint loading and the random-state hook.
    import mmvitx  # noqa: F401
    from mmvitx.datasets import DataFaultError
    from mmvitx.utils.toolbox import (ToolError, build_runner, check_data_roots,
                                      configure_bad_sample_skipping, data_fault_line, enable_amp,
                                      finish_distributed, load_config, set_resume,
                                      setup_cpu_distributed)
    from mmvitx.utils.allocator import keep_freed_memory
    keep_freed_memory()  # large CPU activations reuse memory instead of page-faulting afresh
    try:
        cfg = load_config(args.config, args.launcher, args.cfg_options, args.work_dir)
        check_data_roots(cfg, ('train_dataloader', 'val_dataloader'))
        configure_bad_sample_skipping(cfg, ('train_dataloader', 'val_dataloader'),
                                      args.skip_bad_samples)
        if args.amp:
            enable_amp(cfg)
        set_resume(cfg, args.resume)
        # Checkpoints carry the random states, so that a resumed run continues the same streams.
        if not any(hook.get('type') == 'RandomStateHook' for hook in cfg.get('custom_hooks', [])):
            cfg.custom_hooks = [*cfg.get('custom_hooks', []), dict(type='RandomStateHook')]
        setup_cpu_distributed(cfg)
    except ToolError as error:
        sys.exit(f'train.py: error: {error}')
    try:
        runner = build_runner(cfg)
        runner.train()
    except DataFaultError as error:
        sys.exit(f'train.py: error: {data_fault_line(error)}')
    finish_distributed()


if __name__ == '__main__':
    main()
