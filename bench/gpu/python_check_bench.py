#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""groundeval's Python box ops on torch CUDA tensors against torchvision.ops, same process, same
tensors, same stream: median of CUDA-event timings (end to end from Python, including each
call's framework layer: DLPack capsules, output allocation, and for NMS the host sync that gives
the result its length, as torchvision has too). Checks equality before timing.

usage: python_check_bench.py [--reps 20] [--out results.json]
"""
import argparse
import json
import os
import sys

import torch
import torchvision.ops as ops

import groundeval

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_torchvision  # noqa: E402  (the GPU comparison's timer)


def timed(fn, reps):
    """Median microseconds per call (CUDA events), as compare_torchvision.py times its rows."""
    return compare_torchvision.timed(fn, reps, 1)


def boxes(g, n):
    xy = torch.rand(n, 2, generator=g, device="cpu") * 1000
    return torch.cat([xy, xy + 1 + torch.rand(n, 2, generator=g) * 300], 1).cuda()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--out")
    args = ap.parse_args()
    g = torch.Generator().manual_seed(0)
    rows = []
    for n in (1024, 4096, 16384):
        a, b = boxes(g, n), boxes(g, n)
        assert torch.equal(groundeval.box_iou(a, b), ops.box_iou(a, b))
        rows.append(("box_iou", f"{n}x{n}", timed(lambda: groundeval.box_iou(a, b), args.reps),
                     timed(lambda: ops.box_iou(a, b), args.reps)))
    a, b = boxes(g, 4096), boxes(g, 16384)
    v, i = groundeval.max_iou(a, b)
    rv, ri = ops.box_iou(a, b).max(dim=1)
    assert torch.equal(v, rv)
    rows.append(("max_iou", "4096x16384", timed(lambda: groundeval.max_iou(a, b), args.reps),
                 timed(lambda: ops.box_iou(a, b).max(dim=1), args.reps)))
    for n in (1000, 10000):
        bx = boxes(g, n)
        sc = torch.rand(n, generator=g).cuda()
        assert torch.equal(groundeval.nms(bx, sc, 0.5), ops.nms(bx, sc, 0.5))
        rows.append(("nms", str(n), timed(lambda: groundeval.nms(bx, sc, 0.5), args.reps),
                     timed(lambda: ops.nms(bx, sc, 0.5), args.reps)))
        idx = torch.randint(0, 80, (n,), generator=g).cuda()
        mine = groundeval.batched_nms(bx, sc, idx, 0.5)
        ref = ops.batched_nms(bx, sc, idx, 0.5)
        assert set(mine.tolist()) == set(ref.tolist())
        rows.append(("batched_nms", f"{n}, 80 classes",
                     timed(lambda: groundeval.batched_nms(bx, sc, idx, 0.5), args.reps),
                     timed(lambda: ops.batched_nms(bx, sc, idx, 0.5), args.reps)))
    print(f"{torch.cuda.get_device_name()} torch {torch.__version__}")
    print(f"{'op':<12} {'shape':<16} {'groundeval us':>14} {'torchvision us':>15} {'speed-up':>9}")
    for op, shape, t_ge, t_tv in rows:
        print(f"{op:<12} {shape:<16} {t_ge:>14.1f} {t_tv:>15.1f} {t_tv / t_ge:>8.2f}x")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                       "rows": [dict(zip(("op", "shape", "groundeval_us", "torchvision_us"), r))
                                for r in rows]}, f, indent=1)


if __name__ == "__main__":
    main()
