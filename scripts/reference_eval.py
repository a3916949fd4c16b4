#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run MDETR's reference Flickr30k Entities evaluator on a data set and predictions, and write
its numbers (exact fractions) and timings as JSON.

The evaluator is NOT part of groundeval: point --mdetr at your own checkout of
https://github.com/ashkamath/mdetr (the file datasets/flickr_eval.py is loaded from there), or
--flickr-eval at a copy of that one file. Needs numpy. MDETR's `util.dist` (torch) and
`prettytable` are only used by its FlickrEvaluator wrapper; when they cannot be imported, empty
stand-ins are registered so the file can be loaded without torch. The evaluator class itself,
Flickr30kEntitiesRecallEvaluator, runs unmodified.

Usage:
  scripts/reference_eval.py --mdetr ~/src/mdetr --flickr DIR --split test \
      --predictions preds.json --protocol both --out reference.json [--repeat 3]

Output: {"reference": {...}, "results": {"any": R, "merged": R}} with
R = {"recall_at": {"1"|"5"|"10"|"upper_bound": {category: fraction}}, "phrases": N,
     "sentences": M, "timing_s": {"load": t, "evaluate": [t, ...]}}.
"""
import argparse
import contextlib
import importlib.util
import io
import json
import os
import platform
import subprocess
import sys
import time
import types


def load_reference(path):
    try:
        import util.dist  # noqa: F401  (only present inside an MDETR environment)
    except Exception:
        util = types.ModuleType("util")
        util.dist = types.ModuleType("util.dist")
        sys.modules["util"] = util
        sys.modules["util.dist"] = util.dist
    try:
        import prettytable  # noqa: F401
    except Exception:
        pt = types.ModuleType("prettytable")
        pt.PrettyTable = object
        sys.modules["prettytable"] = pt
    spec = importlib.util.spec_from_file_location("mdetr_flickr_eval", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def git_commit(path):
    try:
        d = os.path.dirname(os.path.abspath(path))
        return subprocess.run(["git", "-C", d, "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except Exception:
        return None


def run(mod, flickr, split, predictions, merge, repeat):
    t0 = time.perf_counter()
    ev = mod.Flickr30kEntitiesRecallEvaluator(flickr, subset=split, topk=(1, 5, 10, -1),
                                              iou_thresh=0.5, merge_boxes=merge, verbose=False)
    load = time.perf_counter() - t0
    times, report = [], None
    for _ in range(repeat):
        out = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(out):  # its duplicate/unknown-id warnings
            report = ev.evaluate(predictions)
        times.append(time.perf_counter() - t0)
    warnings = [l for l in out.getvalue().splitlines() if l.strip()]
    phrases = sum(len(p) for s in ev.imgid2sentences.values() for p in s if p is not None)
    return {
        "recall_at": {("upper_bound" if k == -1 else str(k)): {c: v for c, v in sorted(r.items())}
                      for k, r in report.items()},
        "phrases": phrases,
        "sentences": len(ev.all_ids),
        "warnings": len(warnings),
        "timing_s": {"load": load, "evaluate": times},
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--mdetr", help="root of an MDETR checkout")
    src.add_argument("--flickr-eval", help="path to MDETR's datasets/flickr_eval.py")
    ap.add_argument("--flickr", required=True, help="data set root (Annotations/, Sentences/, <split>.txt)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--predictions", required=True, help="MDETR-format predictions JSON")
    ap.add_argument("--protocol", choices=["any", "merged", "both"], default="both")
    ap.add_argument("--repeat", type=int, default=1, help="timed evaluate() runs")
    ap.add_argument("--out", help="output JSON (default: stdout)")
    args = ap.parse_args(argv)

    path = args.flickr_eval or os.path.join(args.mdetr, "datasets", "flickr_eval.py")
    mod = load_reference(path)
    t0 = time.perf_counter()
    with open(args.predictions) as f:
        predictions = json.load(f)
    read_s = time.perf_counter() - t0
    protocols = ["any", "merged"] if args.protocol == "both" else [args.protocol]
    import numpy
    result = {
        "reference": {"evaluator": "MDETR datasets/flickr_eval.py Flickr30kEntitiesRecallEvaluator",
                      "commit": git_commit(path), "python": platform.python_version(),
                      "numpy": numpy.__version__},
        "inputs": {"flickr": os.path.abspath(args.flickr), "split": args.split,
                   "predictions": os.path.abspath(args.predictions), "read_predictions_s": read_s},
        "results": {p: run(mod, args.flickr, args.split, predictions, p == "merged", args.repeat)
                    for p in protocols},
    }
    text = json.dumps(result, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
