#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Time the reference Python parsers of Flickr30k Entities against groundeval, side by side.

The reference is MDETR's copy of the official flickr30k_entities_utils functions,
`get_sentence_data` and `get_annotations` in `datasets/flickr_eval.py` of a checkout of
https://github.com/ashkamath/mdetr that YOU provide with --mdetr (groundeval does not ship that
code). Only those two function definitions are taken from the file (via `ast`), so torch and
numpy need not be installed; they are run unchanged on every image of the split, which is what
MDETR's Flickr30kEntitiesRecallEvaluator does when it is constructed.

In the same run (same machine, same warm page cache) it runs groundeval's loader through
`bench_datasets` (Google Benchmark, BM_load_flickr30k/0/1 = all threads, fast XML scanner) and prints the ratio. It
also checks that both sides see the same data: sentences, phrases, evaluable phrases and
evaluable sentences counted from the reference parsers' output must equal
`groundeval stats --json -` (when --groundeval is given).

Usage:
  bench_reference_parsers.py --mdetr ~/src/mdetr --data /tmp/groundeval_bench_flickr30k \
      --bench build/bin/bench_datasets [--groundeval build/bin/groundeval] [--split all] [--repeat 3]
Standard library only.
"""
import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import time


def load_reference(mdetr_dir):
    path = os.path.join(mdetr_dir, "datasets", "flickr_eval.py")
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    ns = {}
    exec("import xml.etree.ElementTree as ET\nfrom typing import Any, Dict, List, Union\n", ns)
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in ("get_sentence_data", "get_annotations"):
            exec(compile(ast.Module([node], []), path, "exec"), ns)
            found.append(node.name)
    if sorted(found) != ["get_annotations", "get_sentence_data"]:
        sys.exit(f"{path}: did not find get_sentence_data and get_annotations")
    return ns["get_sentence_data"], ns["get_annotations"]


def split_ids(data, split, repo_data):
    names = ["train", "val", "test"] if split == "all" else [split]
    ids = []
    for s in names:
        p = os.path.join(data, s + ".txt")
        if not os.path.exists(p):
            p = os.path.join(repo_data, "flickr30k_entities", s + ".txt")
        with open(p) as f:
            ids += [l.strip() for l in f if l.strip()]
    return ids


def warm(data, ids):
    for i in ids:
        for p in (f"{data}/Annotations/{i}.xml", f"{data}/Sentences/{i}.txt"):
            with open(p, "rb") as f:
                f.read()


def run_reference(get_sentence_data, get_annotations, data, ids):
    counts = {"sentences": 0, "phrases": 0, "evaluable_phrases": 0, "evaluable_sentences": 0}
    t0, c0 = time.perf_counter(), time.process_time()
    for i in ids:
        ann = get_annotations(f"{data}/Annotations/{i}.xml")
        sents = get_sentence_data(f"{data}/Sentences/{i}.txt")
        boxes = ann["boxes"]
        for s in sents:
            counts["sentences"] += 1
            ev = sum(1 for p in s["phrases"] if p["phrase_id"] in boxes)
            counts["phrases"] += len(s["phrases"])
            counts["evaluable_phrases"] += ev
            counts["evaluable_sentences"] += 1 if ev else 0
    return time.perf_counter() - t0, time.process_time() - c0, counts


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="reference parsers vs groundeval, one run")
    ap.add_argument("--mdetr", required=True, help="checkout of ashkamath/mdetr")
    ap.add_argument("--data", required=True, help="Flickr30k Entities folder (real or generated)")
    ap.add_argument("--split", default="all")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bench", help="path to bench_datasets")
    ap.add_argument("--groundeval", help="path to the groundeval CLI (count cross-check)")
    ap.add_argument("--bench-filter", default="BM_load_flickr30k/0/1")
    args = ap.parse_args()

    get_sentence_data, get_annotations = load_reference(args.mdetr)
    ids = split_ids(args.data, args.split, os.path.join(here, "..", "data"))
    warm(args.data, ids)
    times, cpus, counts = [], [], None
    for _ in range(args.repeat):
        t, c, counts = run_reference(get_sentence_data, get_annotations, args.data, ids)
        times.append(t)
        cpus.append(c)
    py = {"min_s": min(times), "median_s": statistics.median(times), "runs": times,
          "cpu_median_s": statistics.median(cpus), "cpu_runs": cpus}
    print(f"reference (MDETR get_annotations + get_sentence_data), {len(ids)} images: "
          f"wall min {py['min_s']:.3f} s, median {py['median_s']:.3f} s; "
          f"CPU median {py['cpu_median_s']:.3f} s over {args.repeat} runs")
    print(f"reference counts: {counts}")
    result = {"images": len(ids), "python": py, "reference_counts": counts,
              "python_version": sys.version.split()[0]}

    if args.groundeval:
        out = subprocess.run([args.groundeval, "stats", "--dataset", f"flickr30k:{args.data}",
                              "--split", args.split, "--json", "-"], check=True,
                             capture_output=True, text=True).stdout
        ge = json.loads(out)
        diff = {k: (ge[k], v) for k, v in counts.items() if ge[k] != v}
        print("count cross-check:", "identical" if not diff else f"DIFFERENT {diff}")
        result["counts_identical"] = not diff

    if args.bench:
        env = dict(os.environ, GROUNDEVAL_BENCH_FLICKR_DIR=args.data, GROUNDEVAL_BENCH_SPLIT=args.split)

        def bench(flt):
            out = subprocess.run([args.bench, f"--benchmark_filter={flt}",
                                  f"--benchmark_repetitions={max(args.repeat, 3)}",
                                  "--benchmark_format=json"], check=True, capture_output=True,
                                 text=True, env=env).stdout
            runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type") == "iteration"]
            if not runs:
                sys.exit(f"no benchmark matched {flt}")
            unit = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[runs[0]["time_unit"]]
            wall = [b["real_time"] * unit for b in runs]
            cpu = [b["cpu_time"] * unit for b in runs]
            return {"min_s": min(wall), "median_s": statistics.median(wall), "runs": wall,
                    "cpu_median_s": statistics.median(cpu)}

        ge = bench(args.bench_filter)
        print(f"groundeval ({args.bench_filter}): wall min {ge['min_s']:.3f} s, "
              f"median {ge['median_s']:.3f} s over {len(ge['runs'])} runs")
        ratio = py["median_s"] / ge["median_s"]
        print(f"speed-up, wall (median / median): {ratio:.1f}x")
        one = bench("BM_load_flickr30k/1/1")  # one thread: its CPU time is all the work
        cpu_ratio = py["cpu_median_s"] / one["cpu_median_s"]
        print(f"groundeval one thread (BM_load_flickr30k/1/1): CPU median {one['cpu_median_s']:.3f} s, "
              f"wall median {one['median_s']:.3f} s")
        print(f"speed-up, CPU time, one thread each: {cpu_ratio:.1f}x")
        result["groundeval"] = ge
        result["groundeval_one_thread"] = one
        result["speedup_median"] = ratio
        result["speedup_cpu_one_thread"] = cpu_ratio
    print(json.dumps(result))


if __name__ == "__main__":
    main()
