#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs build/bin/bench_iou_cpu once (or reads its JSON output) and prints the Markdown table of
bench/README.md: throughput of every variant and the ratios the foundation issue sets as
targets, all from the same run.

usage: bench_iou_table.py BENCH_BINARY [extra benchmark args...]
       (recorded runs use: --benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
       bench_iou_table.py --json RESULTS.json
"""
import json
import platform
import subprocess
import sys
import tempfile


def load(argv):
    if argv[0] == "--json":
        with open(argv[1]) as f:
            return json.load(f)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([argv[0], f"--benchmark_out={out.name}", "--benchmark_out_format=json",
                        *argv[1:]], check=True, stdout=subprocess.DEVNULL)
        with open(out.name) as f:
            return json.load(f)


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    data = load(argv)
    rate = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue  # with --benchmark_repetitions, use the medians
        name, size = b["name"].split("/")[:2]
        rate[(name, int(size))] = b["items_per_second"]
    sizes = sorted({s for _, s in rate})
    names = sorted({n for n, _ in rate}, key=lambda n: (n.split("_")[0], n))
    ctx = data["context"]
    cpu = ctx.get("cpu_scaling_enabled")
    print(f"Machine: {platform.node()}, {ctx.get('num_cpus')} CPUs at {ctx.get('mhz_per_cpu')} MHz "
          f"(frequency scaling {'on' if cpu else 'off'}), run {ctx.get('date')}\n")
    print("Throughput in million box pairs per second:\n")
    print("| benchmark | " + " | ".join(f"{s}²" if not n.startswith("paired") else str(s) for s in sizes for n in [""]) + " |")
    print("|---|" + "---:|" * len(sizes))
    for n in names:
        cells = [f"{rate[(n, s)] / 1e6:,.0f}" if (n, s) in rate else "—" for s in sizes]
        print(f"| {n} | " + " | ".join(cells) + " |")

    def ratio(a, b, s):
        if (a, s) in rate and (b, s) in rate:
            return rate[(a, s)] / rate[(b, s)]
        return None

    checks = [
        ("pairwise vs scalar loop, 4096²", ratio("pairwise_groundeval", "pairwise_naive", 4096), 8.0),
        ("fused max/argmax vs scalar loop, 4096²", ratio("fused_groundeval", "fused_naive", 4096), 8.0),
        ("pairwise vs store bandwidth, 16384²", ratio("pairwise_groundeval", "store_bandwidth", 16384), 0.70),
        ("pairwise vs broadcast formulation, 4096²", ratio("pairwise_groundeval", "pairwise_broadcast", 4096), 50.0),
        ("pairwise vs broadcast formulation, 16384²", ratio("pairwise_groundeval", "pairwise_broadcast", 16384), 50.0),
        ("pairwise vs GCC-autovectorized plain loop, 4096²", ratio("pairwise_groundeval", "pairwise_autovec", 4096), None),
        ("fused vs broadcast + max, 4096²", ratio("fused_groundeval", "fused_broadcast", 4096), None),
    ]
    print("\n| ratio (same run) | measured | target | met |")
    print("|---|---:|---:|:---:|")
    for label, r, target in checks:
        if r is None:
            continue
        tgt = f"≥ {target:g}" if target is not None else "—"
        met = ("yes" if r >= target else "**no**") if target is not None else ""
        print(f"| {label} | {r:.2f} | {tgt} | {met} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
