"""Export an mmvitx backbone, or a config's model, to ONNX, and check it in onnxruntime.

    # a registered backbone preset (FAMILY [--arch A]; random weights unless --checkpoint)
    python tools/deploy/export_onnx.py hrformer --arch t --img-size 97x131 --verify
    # mmseg: image -> logits at the input size
    python tools/deploy/export_onnx.py configs/hrformer/hrformer-t_ocr_cityscapes-demo.py \\
        --checkpoint work_dirs/hrformer-t_ocr_cityscapes-demo/iter_150.pth \\
        --img-size 512x1024 --dynamic --verify
    # mmpose top-down: person crop -> heatmaps; mmdet: image -> neck features (extract_feat)
    python tools/deploy/export_onnx.py configs/hrformer/hrformer-s_heatmap_coco-256x192.py --verify

The input is the normalised image (the data preprocessor is not exported). --dynamic makes the
batch symbolic, and height and width where the backbone family exports so (docs/deploy.md, the
matrix); otherwise the file is for --img-size only, and the tool says so. --fp16 exports in
float16 (input and outputs too). --verify runs the file in onnxruntime (CPU) at the export size
and, with symbolic sizes, at two more that are no window multiples, and at other batch sizes; it
prints the largest absolute difference from the float32 PyTorch model, and the exit status is 1
where it exceeds --tolerance times max(1, largest output).
"""
import argparse
import os.path as osp
import sys
import time

import torch

from mmvitx.deploy.onnx import (DEFAULT_OPSET, EXPORTERS, OnnxExportError, backbone_of,
                                build_config_model, compare_with_onnxruntime, describe_dims,
                                export_onnx, exporter_of, supports_dynamic_size,
                                verification_inputs)
from mmvitx.models.backbones import BACKBONES
from mmvitx.models.pretrained import load_pretrained

# Input sizes without --img-size: the configs' own test sizes.
DEFAULT_SIZES = {'backbone': (224, 224), 'mmseg': (512, 1024), 'mmdet': (800, 1333)}
# --verify's default bound, relative to max(1, largest output): float32 runtimes differ in
# rounding only; float16 keeps 11 significant bits, through dozens of blocks.
DEFAULT_TOLERANCE = {False: 1e-4, True: 1e-2}


def parse_size(text: str) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'size must be HxW (e.g. 512x1024), got {text!r}')
    if height < 1 or width < 1:
        raise argparse.ArgumentTypeError(f'size must be positive, got {text!r}')
    return height, width


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model', help=f'a backbone family {list(BACKBONES)} or a config file '
                        '(mmseg, mmpose, mmdet)')
    parser.add_argument('--arch', help="the family's preset (default: its smallest)")
    parser.add_argument('--checkpoint', help='weights: a whole-model checkpoint for a config, '
                        "a backbone checkpoint (any layout its converter reads) for a family")
    parser.add_argument('--img-size', type=parse_size, help='HxW of the example input (default: '
                        "224x224 for a backbone, the pose codec's input size, 512x1024 for mmseg, "
                        '800x1333 for mmdet)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--dynamic', action='store_true',
                        help='symbolic batch, and height and width where the family exports so')
    parser.add_argument('--fp16', action='store_true',
                        help='float16 weights, input and outputs (onnxruntime runs them on CPU)')
    parser.add_argument('--exporter', choices=EXPORTERS,
                        help="torch's exporter to use (default: the backbone family's)")
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET)
    parser.add_argument('--out', help='the ONNX file (default: NAME.onnx in the current folder)')
    parser.add_argument('--verify', action='store_true', help='compare with PyTorch in onnxruntime')
    parser.add_argument('--tolerance', type=float,
                        help='--verify fails above this times max(1, largest output) (default: '
                        f'{DEFAULT_TOLERANCE[False]}, {DEFAULT_TOLERANCE[True]} with --fp16)')
    return parser


def build_model(args) -> tuple[torch.nn.Module, str, tuple[int, int]]:
    if args.model in BACKBONES:
        cls = BACKBONES[args.model]
        arch = args.arch or next(iter(cls.arch_zoo))
        model = cls(arch=arch)
        if args.checkpoint:
            load_pretrained(model, args.checkpoint, cls.family)
        return model.eval(), f'{cls.family}-{arch}', DEFAULT_SIZES['backbone']
    if not osp.isfile(args.model):
        raise OnnxExportError(f'{args.model!r} is neither a backbone family {list(BACKBONES)} '
                              f'nor a config file')
    if args.arch:
        raise OnnxExportError('--arch is for backbone families; a config names its own')
    model, cfg = build_config_model(args.model, args.checkpoint)
    if cfg.default_scope == 'mmpose':
        width, height = cfg.codec['input_size']
        size = (height, width)
    else:
        size = DEFAULT_SIZES[cfg.default_scope]
    return model, osp.splitext(osp.basename(args.model))[0], size


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        model, name, default_size = build_model(args)
        if not args.checkpoint:
            print('[export_onnx] no --checkpoint: random weights')
        height, width = args.img_size or default_size
        if args.dynamic and not supports_dynamic_size(model):
            print(f'[export_onnx] {type(backbone_of(model)).__name__} exports with static sizes '
                  f'only (docs/deploy.md): the file is for {height}x{width} only, with a '
                  f'symbolic batch')
        path = args.out or f'{name}{"-fp16" if args.fp16 else ""}.onnx'
        exporter = args.exporter or exporter_of(model)
        start = time.perf_counter()
        example = torch.randn(args.batch_size, 3, height, width)
        dims = export_onnx(model, example, path, args.dynamic, args.opset, exporter, args.fp16)
        print(f'[export_onnx] wrote {path} ({describe_dims(dims, example)}, '
              f'{"float16" if args.fp16 else "float32"}, {exporter} exporter, opset {args.opset}) '
              f'in {time.perf_counter() - start:.0f} s')
        if not args.verify:
            return 0
        inputs = verification_inputs(example, dims)
        tolerance = args.tolerance or DEFAULT_TOLERANCE[args.fp16]
        failed = False
        for c in compare_with_onnxruntime(model, path, inputs):
            bound = tolerance * max(1., c.max_abs_output)
            failed |= c.max_abs_diff > bound
            print(f'[export_onnx] input {"x".join(map(str, c.input_shape))}: max abs diff '
                  f'{c.max_abs_diff:.2e} (largest output {c.max_abs_output:.2f}; bound '
                  f'{bound:.1e}) {"FAIL" if c.max_abs_diff > bound else "ok"}')
        return int(failed)
    except (OnnxExportError, FileNotFoundError, KeyError) as error:
        print(f'[export_onnx] error: {error}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
