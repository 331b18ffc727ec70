"""Generate the small, deterministic, learnable demo datasets used by mmvitx's demo configs.

Writes COCO instances + keypoints, ADE20K and Cityscapes look-alikes in their real on-disk
formats, so the packaged mmdet / mmseg / mmpose dataset configs read them with only ``data_root``
changed (for mmpose's top-down val set also ``bbox_file``). See ``mmvitx/datasets/demo.py`` for
the layout and what is drawn.

Examples:
    python tools/misc/generate_demo_data.py
    python tools/misc/generate_demo_data.py --out /tmp/demo --seed 3 --only coco coco_pose
    python tools/misc/generate_demo_data.py --num-train 64 --num-val 16
"""
import argparse
import time

from mmvitx.datasets.demo import DEMO_DATASETS, generate_demo_data


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default='data/demo',
                        help='output root; datasets go to coco/, ade/ADEChallengeData2016/ and '
                             'cityscapes/ below it (default: %(default)s). Use an empty '
                             'directory when changing the image counts.')
    parser.add_argument('--seed', type=int, default=0,
                        help='non-negative random seed; the same seed and options give '
                             'byte-identical files (default: %(default)s)')
    parser.add_argument('--only', nargs='+', choices=DEMO_DATASETS, default=list(DEMO_DATASETS),
                        metavar='DATASET',
                        help=f'datasets to generate, any of {", ".join(DEMO_DATASETS)} '
                             '(default: all)')
    parser.add_argument('--num-train', type=int, default=24,
                        help='training images per dataset (default: %(default)s)')
    parser.add_argument('--num-val', type=int, default=8,
                        help='validation images per dataset (default: %(default)s)')
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error('--seed must be non-negative')
    if args.num_train < 1 or args.num_val < 1:
        parser.error('--num-train and --num-val must be at least 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    roots = generate_demo_data(args.out, seed=args.seed, datasets=args.only,
                               num_train=args.num_train, num_val=args.num_val, log=print)
    print(f'Done in {time.perf_counter() - start:.1f} s. data_root per dataset:')
    for name, root in roots.items():
        print(f'  {name:<11} {root}')


if __name__ == '__main__':
    main()
