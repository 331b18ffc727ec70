"""onnxruntime against PyTorch eager on CPU: the latency of each backbone family's preset at the
given batch sizes and input sizes, in one run (the figures of docs/deploy.md).

    python tools/deploy/benchmark_onnx.py --threads 2 --settings 1x512 8x224 --repeat 10

Per family (``--families``, default all) and setting BATCHxSIZE: the preset (default the
smallest) with random weights, exported at that size (``mmvitx.deploy.onnx``, the family's
exporter; with ``--dynamic`` with symbolic sizes where the family exports so); PyTorch
eager runs in eval mode without autograd with the speed-up layer (its usual inference path);
both on ``--threads`` intra-op threads. Median of ``--repeat`` timed steps after ``--warmup``
untimed ones, the two runtimes alternating step by step so that load on the machine hits both
alike.
"""
import argparse
import os
import statistics
import tempfile
import time

import torch

from mmvitx.deploy.onnx import INPUT_NAME, export_onnx, onnxruntime_session
from mmvitx.models.backbones import BACKBONES


def parse_setting(text: str) -> tuple[int, int]:
    try:
        batch, size = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'a setting is BATCHxSIZE (e.g. 8x224), got {text!r}')
    return batch, size


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--families', nargs='+', choices=list(BACKBONES), default=list(BACKBONES))
    parser.add_argument('--arch', help='preset for every family given (default: each smallest)')
    parser.add_argument('--settings', nargs='+', type=parse_setting, default=[(1, 512), (8, 224)])
    parser.add_argument('--dynamic', action='store_true',
                        help='time files exported with symbolic batch and sizes')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=10)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs\n')
    print('| family | preset | batch x size | PyTorch eager ms | onnxruntime ms | PyTorch / ORT |')
    print('|---|---|---|---|---|---|')
    with tempfile.TemporaryDirectory() as folder:
        for family in args.families:
            cls = BACKBONES[family]
            arch = args.arch or next(iter(cls.arch_zoo))
            model = cls(arch=arch).eval()
            for batch, size in args.settings:
                x = torch.randn(batch, 3, size, size)
                path = os.path.join(folder, f'{family}-{batch}x{size}.onnx')
                export_onnx(model, x, path, dynamic=args.dynamic)
                session = onnxruntime_session(path, args.threads)
                feed = {INPUT_NAME: x.numpy()}
                times = {'torch': [], 'ort': []}
                with torch.no_grad():
                    for step in range(args.warmup + args.repeat):
                        for name, run in (('torch', lambda: model(x)),
                                          ('ort', lambda: session.run(None, feed))):
                            start = time.perf_counter()
                            run()
                            if step >= args.warmup:
                                times[name].append(time.perf_counter() - start)
                eager, ort = (statistics.median(times[k]) * 1e3 for k in ('torch', 'ort'))
                print(f'| {family} | {arch} | {batch} x {size} | {eager:.1f} | {ort:.1f} | '
                      f'{eager / ort:.2f} |', flush=True)


if __name__ == '__main__':
    main()
