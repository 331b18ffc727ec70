"""Convert an official (or other known) backbone checkpoint into mmvitx's layout.

    python tools/convert_checkpoint.py hrformer hrt_small.pth checkpoints/hrformer-s_in1k.pth
    python tools/convert_checkpoint.py fastervit fastervit_2_224_1k.pth.tar \
        checkpoints/fastervit-2_in1k.pth

The output holds ``{'state_dict': ..., 'meta': {...}}`` with plain tensors only, so it loads with
``torch.load(weights_only=True)``; point a config's ``backbone.init_cfg.checkpoint`` at it.
"""
import argparse
import os
import os.path as osp

import torch

from mmvitx.models import CONVERTERS, get_converter
from mmvitx.models.pretrained import extract_state_dict


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('family', choices=sorted(CONVERTERS), help='backbone family')
    parser.add_argument('src', help='checkpoint to convert (official release layout)')
    parser.add_argument('dst', help='where to write the mmvitx checkpoint')
    parser.add_argument(
        '--trust-pickle', action='store_true',
        help='load SRC with full unpickling (only for files from a source you trust; needed for '
        'official files that pickle non-tensor objects)')
    return parser.parse_args()


def main():
    args = parse_args()
    if not osp.isfile(args.src):
        raise SystemExit(f'No such checkpoint: {args.src}')
    try:
        checkpoint = torch.load(args.src, map_location='cpu', weights_only=not args.trust_pickle)
    except Exception as error:  # torch raises UnpicklingError or RuntimeError here
        raise SystemExit(
            f'Could not load {args.src} safely ({type(error).__name__}: {error}).\nIf you trust '
            f'the file, re-run with --trust-pickle.') from error
    state_dict = get_converter(args.family)(extract_state_dict(checkpoint))
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save({'state_dict': state_dict,
                'meta': {'converted_from': osp.basename(args.src), 'family': args.family}},
               args.dst)
    num_params = sum(v.numel() for k, v in state_dict.items() if not k.endswith('num_batches_tracked'))
    print(f'Converted {len(state_dict)} tensors ({num_params / 1e6:.3f}M values) from {args.src} '
          f'to {args.dst}')


if __name__ == '__main__':
    main()
