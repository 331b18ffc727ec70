"""Convert an official (or other known) backbone checkpoint into mmvitx's layout.

    python tools/convert_checkpoint.py hrformer hrt_small.pth checkpoints/hrformer-s_in1k.pth
    python tools/convert_checkpoint.py fastervit fastervit_2_224_1k.pth.tar \
        checkpoints/fastervit-2_in1k.pth

The output holds ``{'state_dict': ..., 'meta': {...}}`` with plain tensors only, so it loads with
``torch.load(weights_only=True)``; point a config's ``backbone.init_cfg.checkpoint`` at it.

The converted weights are checked against the family's presets (built on the meta device): the
tool says which preset they fit, and fails (exit status 1) when they are not the family's weights
or lack weights of their closest preset, listing what does not fit. ``--allow-partial`` writes
them anyway. Weights that fit no preset but have the family's layout (a custom arch) are written
with a warning: pretrained loading checks them against the configured arch.
"""
import argparse
import os
import os.path as osp
import sys

import torch

from mmvitx.models import CONVERTERS, get_converter
from mmvitx.models.backbones import BACKBONES
from mmvitx.models.pretrained import (describe_fit, extract_state_dict, preset_fits,
                                      preset_shapes, pretrain_size_advice, pretrain_size_mismatch)
from mmvitx.utils.checkpoint import (UnsafeCheckpointError, checkpoint_file_problem,
                                     load_weights_only)


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
    parser.add_argument(
        '--allow-partial', action='store_true',
        help='write the converted weights even when they are not the family\'s or lack weights '
        'of their closest preset (then load them with init_cfg=dict(type="Pretrained", '
        'checkpoint=..., strict=False))')
    return parser.parse_args()


def load_source(src: str, trust_pickle: bool):
    """The loaded SRC; a bad file exits with the message that says what is wrong with it."""
    if not trust_pickle:
        try:
            return load_weights_only(src, map_location='cpu')
        except UnsafeCheckpointError as error:
            raise SystemExit(f'{error}\nOr, if you trust the file, re-run with --trust-pickle.')
        except ValueError as error:  # InvalidCheckpointError
            raise SystemExit(str(error))
    try:
        return torch.load(src, map_location='cpu', weights_only=False)
    except Exception as error:
        problem = checkpoint_file_problem(src, weights_only=False)
        raise SystemExit(str(problem) if problem else f'Could not load {src}: {error}') from error


def layout(key: str) -> str:
    """A weight's name with its block and stage indices left out: what every arch of a family
    shares (``stages.N.blocks.N.attn.qkv.weight``)."""
    return '.'.join('N' if part.isdigit() else part for part in key.split('.'))


def families_that_fit(raw_state_dict: dict, besides: str) -> list[str]:
    """The other families whose converter maps ``raw_state_dict`` onto one of their presets."""
    fitting = []
    for family, backbone_cls in BACKBONES.items():
        if family == besides:
            continue
        try:
            converted = backbone_cls.converter()(raw_state_dict)
        except (ValueError, KeyError):  # converters reject what they recognise as foreign
            continue
        if converted and preset_fits(backbone_cls, converted)[0][1].fits:
            fitting.append(family)
    return fitting


def check_fit(family: str, raw_state_dict: dict, state_dict: dict) -> tuple[str, str]:
    """How the converted ``state_dict`` fits ``family``: ``'fits'``, ``'custom'`` (the family's
    layout, no preset's shapes: written with a warning) or ``'fails'`` (written only with
    --allow-partial), and the report that says so."""
    backbone_cls = BACKBONES[family]
    fits = preset_fits(backbone_cls, state_dict)
    exact = [label for label, fit in fits if fit.fits]
    if exact:
        release = fits[0][1].missing_from_release
        note = (f'; {len(release)} weights mmvitx adds stay at their initialisation when it '
                f'loads ({", ".join(sorted({key.split(".")[0] + "." for key in release}))})'
                if release else '')
        return 'fits', f'They fit the {family} preset {" and ".join(exact)}{note}.'
    label, closest = fits[0]
    if pretrain_size_mismatch(closest, backbone_cls):
        return 'fits', (f'They fit the {family} preset {label} pretrained at another input size. '
                        f'{pretrain_size_advice(state_dict, backbone_cls)}.')
    known = {layout(key) for shapes in preset_shapes(backbone_cls).values() for key in shapes}
    foreign = [key for key in state_dict if layout(key) not in known]
    if not state_dict or foreign:
        others = families_that_fit(raw_state_dict, family)
        hint = (f' It fits {" and ".join(others)}: python tools/convert_checkpoint.py '
                f'{others[0]} ...' if others else '')
        what = (f'none of its {len(raw_state_dict)} weights maps to {family}' if not state_dict
                else f'{len(foreign)} of its {len(state_dict)} converted weights have names '
                f'that no {family} arch has: {", ".join(foreign[:10])}'
                f'{f" and {len(foreign) - 10} more" if len(foreign) > 10 else ""}')
        return 'fails', f'It is not a {family} checkpoint: {what}.{hint}'
    if not (closest.unexpected or closest.mismatched):
        return 'fails', (f'It lacks weights of the {family} preset {label}, which it fits '
                         f'otherwise:\n  {describe_fit(closest)}')
    return 'custom', (f'They fit no {family} preset (a custom arch?); pretrained loading checks '
                      f'them against the configured arch. The closest preset, {label}:\n  '
                      f'{describe_fit(closest)}')


def main():
    args = parse_args()
    if not osp.isfile(args.src):
        raise SystemExit(f'No such checkpoint: {args.src}')
    try:
        raw_state_dict = extract_state_dict(load_source(args.src, args.trust_pickle))
        state_dict = get_converter(args.family)(raw_state_dict)
    except (TypeError, ValueError) as error:  # no state dict; a layout the converter rejects
        raise SystemExit(f'{args.src}: {error}') from error
    fit, report = check_fit(args.family, raw_state_dict, state_dict)
    if fit == 'fails' and not args.allow_partial:
        raise SystemExit(f'{args.src} does not fit {args.family}; nothing written. {report}\n'
                         f'To write the converted weights anyway, re-run with --allow-partial '
                         f'(and load them with strict=False).')
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save({'state_dict': state_dict,
                'meta': {'converted_from': osp.basename(args.src), 'family': args.family}},
               args.dst)
    num_params = sum(v.numel() for k, v in state_dict.items() if not k.endswith('num_batches_tracked'))
    print(f'Converted {len(state_dict)} tensors ({num_params / 1e6:.3f}M values) from {args.src} '
          f'to {args.dst}.')
    if fit == 'fits':
        print(report)
    else:
        print(f'Warning: {report}', file=sys.stderr)


if __name__ == '__main__':
    main()
