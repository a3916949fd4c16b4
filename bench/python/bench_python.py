#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of the Python package against what Python users run today, in one process:

1. box_iou of two 4096-box float32 numpy arrays: groundeval.box_iou against
   torchvision.ops.box_iou (CPU torch, on the same memory through torch.from_numpy) and a plain
   numpy broadcast (MDETR's flickr_eval.py computes IoU this way, in float64);
2. evaluation of a generated (SYNTHETIC) test split of full size (1000 images, ~5000 sentences,
   generated predictions with 10 boxes per phrase, MDETR's JSON format): groundeval (open the
   folder + evaluate the file, ANY and MERGED) against MDETR's own evaluator
   (Flickr30kEntitiesRecallEvaluator: load + evaluate), whose Recall@k must be equal.

Each timing is the median of --reps runs; ratios are baseline time / groundeval time. Needs
numpy, torch, torchvision, groundeval (pip install .) and MDETR's datasets/flickr_eval.py
(--flickr-eval; not part of groundeval: a checkout of github.com/ashkamath/mdetr).

usage: bench_python.py --flickr-eval PATH [--reps 5] [--work DIR] [--out results.json]
"""
import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import groundeval

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import reference_eval  # noqa: E402  (the repository's loader of MDETR's evaluator)


def median_time(fn, reps):
    fn()  # warm-up (page faults of the output, thread pools)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def boxes(rng, n):
    xy = rng.uniform(0, 1000, (n, 2))
    return np.concatenate([xy, xy + rng.uniform(1, 300, (n, 2))], 1).astype(np.float32)


def numpy_box_iou(a, b):
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def bench_iou(reps):
    import torch
    import torchvision.ops as ops
    rng = np.random.default_rng(0)
    a, b = boxes(rng, 4096), boxes(rng, 4096)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    assert np.array_equal(groundeval.box_iou(a, b), ops.box_iou(ta, tb).numpy())
    t_ge = median_time(lambda: groundeval.box_iou(a, b), reps)
    t_tv = median_time(lambda: ops.box_iou(ta, tb), reps)
    t_np = median_time(lambda: numpy_box_iou(a, b), reps)
    return {"shape": [4096, 4096], "dtype": "float32", "torch_threads": torch.get_num_threads(),
            "groundeval_s": t_ge, "torchvision_s": t_tv, "numpy_s": t_np,
            "speedup_vs_torchvision": t_tv / t_ge, "speedup_vs_numpy": t_np / t_ge}


def bench_evaluate(flickr_eval, work, reps):
    data, preds = os.path.join(work, "flickr"), os.path.join(work, "predictions.json")
    if not os.path.isdir(data):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "generate_flickr30k.py"),
                        data, "--images", "1000", "--splits", "test"], check=True,
                       stdout=subprocess.DEVNULL)
    if not os.path.isfile(preds):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "generate_predictions.py"),
                        "--flickr", data, "--split", "test", "--format", "mdetr", "--out", preds],
                       check=True, stdout=subprocess.DEVNULL)
    mod = reference_eval.load_reference(flickr_eval)
    out = {}
    for protocol in ("any", "merged"):
        def ours():
            ds = groundeval.open_flickr30k(data, split="test")
            return groundeval.evaluate(ds, preds, protocol=protocol)

        def reference():
            ev = mod.Flickr30kEntitiesRecallEvaluator(data, subset="test", topk=(1, 5, 10, -1),
                                                      iou_thresh=0.5,
                                                      merge_boxes=protocol == "merged",
                                                      verbose=False)
            with open(preds) as f:
                p = json.load(f)
            with contextlib.redirect_stdout(io.StringIO()):
                return ev.evaluate(p)

        ref, res = reference(), ours().recall
        for k, cats in ref.items():
            key = "upper_bound" if k == -1 else str(k)
            for c, v in cats.items():
                assert res[key][c] == v, (protocol, key, c, res[key][c], v)  # bit-identical
        t_ge, t_ref = median_time(ours, reps), median_time(reference, reps)
        out[protocol] = {"groundeval_s": t_ge, "mdetr_s": t_ref, "speedup": t_ref / t_ge,
                         "phrases": ours().to_dict()["phrases"]}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flickr-eval", required=True, help="MDETR's datasets/flickr_eval.py")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--work", help="folder for the generated data (default: a temporary one)")
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        res = {"machine": f"{platform.node()} {os.cpu_count()} cores, load "
                          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at start",
               "python": platform.python_version(), "numpy": np.__version__,
               "box_iou": bench_iou(args.reps),
               "evaluate": bench_evaluate(args.flickr_eval, work, args.reps)}
    res["load_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    i = res["box_iou"]
    print(f"box_iou 4096x4096 float32: groundeval {i['groundeval_s'] * 1e3:.1f} ms, torchvision "
          f"{i['torchvision_s'] * 1e3:.1f} ms ({i['speedup_vs_torchvision']:.1f}x), numpy "
          f"{i['numpy_s'] * 1e3:.1f} ms ({i['speedup_vs_numpy']:.1f}x)")
    for p, e in res["evaluate"].items():
        print(f"evaluate test split ({p}, {e['phrases']} phrases): groundeval "
              f"{e['groundeval_s'] * 1e3:.1f} ms, MDETR {e['mdetr_s'] * 1e3:.1f} ms "
              f"({e['speedup']:.1f}x)")
    print(f"load: {res['machine']}; at end {res['load_at_end']}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
