#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end speed of the groundeval command line against the reference, side by side in one run.

What a user runs, timed as whole processes (wall clock, subprocess start to exit), in rounds so
that both sides see the same machine load (each round runs every command once, in turn):

  evaluate   `groundeval evaluate` on the generated test split, MDETR JSON and JSON Lines
             predictions (table printed, JSON report written)
     vs      MDETR's evaluator, whole run: `python scripts/reference_eval.py --protocol any`
             (Python start, numpy import, its data set parsing, json.load, evaluate, output)
  stats      `groundeval stats --split all` (31,783 images)
     vs      the reference Python parsers, `scripts/bench_reference_parsers.py` (MDETR's
             get_annotations + get_sentence_data on every image, timed inside Python)

plus, when the binaries are given: predictions reading speed (bench_evaluate, MB/s of file),
the loader's phases and parallel efficiency (bench_load_timeline), and the peak resident memory
of `evaluate` on ~1 GB predictions files (--big). Every figure is a median; the table says the
machine, its load (`uptime`) before and after, the commit and the date. With --readme the table
replaces the block between the markers `<!-- bench/run.sh: begin -->` and `<!-- bench/run.sh:
end -->` of that file. bench/run.sh prepares everything and calls this script.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BEGIN = "<!-- bench/run.sh: begin -->"
END = "<!-- bench/run.sh: end -->"


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()


def machine():
    model = sh("lscpu | sed -n 's/^Model name:[ \\t]*//p' | head -1") or platform.processor()
    return {"cpu": model, "cpus": os.cpu_count(), "kernel": platform.release(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "python": platform.python_version()}


def load():
    return sh("uptime | sed 's/.*load average: //'")


def timed(cmd, **kw):
    """Wall seconds of one process (exit code 0 or 3, else the benchmark stops)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    err = p.stderr.read().decode(errors="replace")
    code = p.wait()
    wall = time.perf_counter() - t0
    p.stderr.close()
    if code not in (0, 3):
        sys.exit(f"failed ({code}): {' '.join(cmd)}\n{err[-2000:]}")
    return wall


def timed_with_peak_rss(cmd):
    """Wall seconds and peak RSS (KiB) of one process, the RSS measured by GNU time (None
    without it). Not from wait4: Linux keeps a process's ru_maxrss across execve, so a child
    forked from this Python process reports at least this Python's own RSS (about 41 MiB with
    numpy loaded), whatever it uses itself; GNU time is a small process that forks the command."""
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    if not gnu_time:
        return timed(cmd), None
    t0 = time.perf_counter()
    p = subprocess.run([gnu_time, "-f", "%M", *cmd], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 3):
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return wall, int(p.stderr.strip().splitlines()[-1])


def reference_parsers_seconds(args, here):
    out = subprocess.run([sys.executable, os.path.join(here, "bench_reference_parsers.py"),
                          "--mdetr", args.mdetr, "--data", args.data, "--split", "all",
                          "--repeat", "1"], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["python"]["median_s"]


def check_results(args, tmp, here):
    """Same Recall@k as the reference; same counts as the reference parsers."""
    ours = os.path.join(tmp, "ours.json")
    ref = os.path.join(tmp, "ref.json")
    subprocess.run([args.groundeval, "evaluate", "--dataset", f"flickr30k:{args.data}", "--split",
                    "test", "--predictions", args.predictions, "--json", ours, "--quiet"],
                   check=True)
    subprocess.run([args.python, os.path.join(here, "reference_eval.py"), "--flickr-eval",
                    args.flickr_eval, "--flickr", args.data, "--split", "test", "--predictions",
                    args.predictions, "--protocol", "any", "--out", ref], check=True,
                   capture_output=True)
    a = json.load(open(ours))["recall_at"]
    b = json.load(open(ref))["results"]["any"]["recall_at"]
    same_recall = all(a[k][c] == b[k][c] for k in b for c in b[k]) and a.keys() == b.keys()
    jl = os.path.join(tmp, "ours_jsonl.json")
    subprocess.run([args.groundeval, "evaluate", "--dataset", f"flickr30k:{args.data}", "--split",
                    "test", "--predictions", args.predictions_jsonl, "--json", jl, "--quiet"],
                   check=True)
    same_jsonl = json.load(open(jl))["recall_at"] == a
    out = subprocess.run([sys.executable, os.path.join(here, "bench_reference_parsers.py"),
                          "--mdetr", args.mdetr, "--data", args.data, "--split", "all",
                          "--repeat", "1", "--groundeval", args.groundeval], check=True,
                         capture_output=True, text=True).stdout
    same_counts = json.loads(out.strip().splitlines()[-1]).get("counts_identical", False)
    return {"recall_identical": same_recall, "jsonl_recall_identical": same_jsonl,
            "stats_counts_identical": same_counts}


def read_speed(args):
    env = dict(os.environ, GROUNDEVAL_BENCH_FLICKR=args.data,
               GROUNDEVAL_BENCH_PREDICTIONS=args.predictions,
               GROUNDEVAL_BENCH_PREDICTIONS_JSONL=args.predictions_jsonl)
    out = subprocess.run([args.bench_evaluate, "--benchmark_filter=BM_read_predictions",
                          f"--benchmark_repetitions={args.repeat}",
                          "--benchmark_report_aggregates_only=true", "--benchmark_format=json"],
                         check=True, capture_output=True, text=True, env=env).stdout
    speeds = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            speeds[b["run_name"]] = b["bytes_per_second"] / 1e6
    return speeds


def timeline(args):
    out_json = os.path.join(tempfile.mkdtemp(), "timeline.json")
    text = subprocess.run([args.bench_load_timeline, "--root", args.data, "--threads", "1,2,16",
                           "--repeat", str(max(3, args.repeat // 2)), "--mode", "both",
                           "--data-dir", args.data_dir, "--json", out_json],
                          check=True, capture_output=True, text=True).stdout
    return text, json.load(open(out_json))


def big_files(args, tmp):
    """~1 GB files made of the test split's predictions repeated (later copies are duplicates,
    which the evaluator counts and ignores), and the peak RSS of evaluating them."""
    target = int(args.big_gb * 2**30)
    jl = os.path.join(tmp, "big.jsonl")
    src = open(args.predictions_jsonl, "rb").read()
    with open(jl, "wb") as f:
        for _ in range(max(1, target // len(src))):
            f.write(src)
    md = os.path.join(tmp, "big.json")
    body = open(args.predictions, "rb").read().strip()
    assert body[:1] == b"[" and body[-1:] == b"]"
    inner = body[1:-1].strip()
    with open(md, "wb") as f:
        f.write(b"[")
        for k in range(max(1, target // len(inner))):
            f.write((b",\n" if k else b"") + inner)
        f.write(b"]\n")
    res = {}
    for name, path in (("jsonl", jl), ("mdetr", md), ("jsonl_small", args.predictions_jsonl),
                       ("mdetr_small", args.predictions)):
        wall, rss = timed_with_peak_rss([args.groundeval, "evaluate", "--dataset",
                                         f"flickr30k:{args.data}", "--split", "test",
                                         "--predictions", path, "--quiet"])
        res[name] = {"bytes": os.path.getsize(path), "wall_s": wall, "peak_rss_kib": rss}
        if path in (jl, md):
            os.remove(path)
    return res


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--groundeval", required=True)
    ap.add_argument("--data", required=True, help="full-scale generated Flickr30k Entities folder")
    ap.add_argument("--data-dir", default=os.path.join(here, "..", "data"))
    ap.add_argument("--predictions", required=True, help="MDETR JSON predictions, test split")
    ap.add_argument("--predictions-jsonl", required=True, help="the same as JSON Lines")
    ap.add_argument("--mdetr", required=True, help="a checkout of ashkamath/mdetr")
    ap.add_argument("--python", default=sys.executable, help="a Python with numpy (reference)")
    ap.add_argument("--repeat", type=int, default=7, help="rounds (medians of this many)")
    ap.add_argument("--bench-evaluate", help="bench_evaluate binary (reading speed)")
    ap.add_argument("--bench-load-timeline", help="bench_load_timeline binary (efficiency)")
    ap.add_argument("--big", action="store_true", help="peak RSS on ~1 GB predictions files")
    ap.add_argument("--big-gb", type=float, default=1.0)
    ap.add_argument("--readme", help="write the table into this file between the markers")
    ap.add_argument("--json", help="write every number here")
    args = ap.parse_args()
    args.flickr_eval = os.path.join(args.mdetr, "datasets", "flickr_eval.py")
    if args.repeat < 5:
        sys.exit("--repeat must be at least 5 (medians of >= 5)")

    tmp = tempfile.mkdtemp(prefix="groundeval_e2e_")
    info = {"machine": machine(), "load_before": load(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": sh(f"git -C {here} rev-parse --short=12 HEAD") or "unknown"}
    print(f"== machine: {info['machine']}; load average {info['load_before']}", flush=True)
    info["checks"] = check_results(args, tmp, here)
    print(f"== results: {info['checks']}", flush=True)

    ge_eval = lambda p: [args.groundeval, "evaluate", "--dataset", f"flickr30k:{args.data}",
                         "--split", "test", "--predictions", p, "--json",
                         os.path.join(tmp, "r.json")]
    commands = {
        "evaluate_mdetr": lambda: timed(ge_eval(args.predictions)),
        "evaluate_jsonl": lambda: timed(ge_eval(args.predictions_jsonl)),
        "reference_evaluate": lambda: timed([args.python, os.path.join(here, "reference_eval.py"),
                                             "--flickr-eval", args.flickr_eval, "--flickr",
                                             args.data, "--split", "test", "--predictions",
                                             args.predictions, "--protocol", "any", "--out",
                                             os.path.join(tmp, "ref.json")]),
        "stats_all": lambda: timed([args.groundeval, "stats", "--dataset",
                                    f"flickr30k:{args.data}", "--split", "all"]),
        "reference_parsers": lambda: reference_parsers_seconds(args, here),
    }
    for c in commands.values():  # warm-up: page cache, Python byte code
        c()
    runs = {k: [] for k in commands}
    for r in range(args.repeat):
        order = list(commands)
        order = order[r % len(order):] + order[:r % len(order)]
        for k in order:
            runs[k].append(commands[k]())
        print(f"   round {r + 1}/{args.repeat}: " +
              ", ".join(f"{k} {runs[k][-1] * 1e3:.1f} ms" for k in commands), flush=True)
    med = {k: statistics.median(v) for k, v in runs.items()}
    info["runs_s"] = runs
    info["median_s"] = med
    if args.bench_evaluate:
        info["read_mb_per_s"] = read_speed(args)
    if args.bench_load_timeline:
        info["timeline_text"], info["timeline"] = timeline(args)
    if args.big:
        info["big"] = big_files(args, tmp)
    info["load_after"] = load()
    shutil.rmtree(tmp, ignore_errors=True)

    ratio_eval = med["reference_evaluate"] / med["evaluate_mdetr"]
    ratio_eval_jl = med["reference_evaluate"] / med["evaluate_jsonl"]
    ratio_stats = med["reference_parsers"] / med["stats_all"]
    yes = lambda ok: "yes" if ok else "**no**"
    m = info["machine"]
    lines = [
        f"Measured {info['date']} on commit {info['commit']} by `bench/run.sh`: {m['cpus']} CPUs "
        f"({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, Python {m['python']}; load "
        f"average before {info['load_before']}, after {info['load_after']}. Wall-clock medians of "
        f"{args.repeat} rounds; every round runs each command once, so both sides share the "
        f"machine's load. Results checked in the same run: Recall@k identical to the reference "
        f"{yes(info['checks']['recall_identical'])} (JSON Lines: "
        f"{yes(info['checks']['jsonl_recall_identical'])}), `stats` counts identical to the "
        f"reference parsers' {yes(info['checks']['stats_counts_identical'])}.",
        "",
        "| measurement | groundeval | reference | ratio | target | met |",
        "|---|---:|---:|---:|---|:---:|",
        f"| `evaluate`, test split, MDETR JSON (5.6 MB) vs MDETR's evaluator, whole run | "
        f"{med['evaluate_mdetr'] * 1e3:.1f} ms | {med['reference_evaluate'] * 1e3:.0f} ms | "
        f"{ratio_eval:.1f}x | <= 30 ms, >= 20x | "
        f"{yes(med['evaluate_mdetr'] <= 0.030 and ratio_eval >= 20)} |",
        f"| `evaluate`, test split, JSON Lines (9.2 MB) vs the same reference run | "
        f"{med['evaluate_jsonl'] * 1e3:.1f} ms | {med['reference_evaluate'] * 1e3:.0f} ms | "
        f"{ratio_eval_jl:.1f}x | <= 30 ms, >= 20x | "
        f"{yes(med['evaluate_jsonl'] <= 0.030 and ratio_eval_jl >= 20)} |",
        f"| `stats --split all` (31,783 images) vs the reference parsers | "
        f"{med['stats_all'] * 1e3:.0f} ms | {med['reference_parsers'] * 1e3:.0f} ms | "
        f"{ratio_stats:.1f}x | >= 12x | {yes(ratio_stats >= 12)} |",
    ]
    if "read_mb_per_s" in info:
        s = info["read_mb_per_s"]
        get = lambda n: s.get(n, float("nan"))
        for fmt, name in ((0, "MDETR JSON"), (1, "JSON Lines")):
            fast = get(f"BM_read_predictions/format:{fmt}/threads:0/real_time")
            one = get(f"BM_read_predictions/format:{fmt}/threads:1/real_time")
            ref = get(f"BM_read_predictions_reference/format:{fmt}/real_time")
            lines.append(f"| reading predictions, {name} (all threads; one thread {one:.0f} MB/s) "
                         f"vs the nlohmann/json reader | {fast:.0f} MB/s | {ref:.0f} MB/s | "
                         f"{fast / ref:.1f}x | >= 500 MB/s | {yes(fast >= 500)} |")
    if "big" in info:
        b = info["big"]
        for k, name in (("jsonl", "JSON Lines"), ("mdetr", "MDETR JSON")):
            if b[k]["peak_rss_kib"] is None or b[k + "_small"]["peak_rss_kib"] is None:
                lines.append(f"| peak RSS of `evaluate`, {name} | not measured (no GNU time, "
                             f"/usr/bin/time) | | | bounded | ? |")
                continue
            lines.append(f"| peak RSS of `evaluate`, {b[k]['bytes'] / 2**30:.2f} GiB {name} file "
                         f"({b[k + '_small']['peak_rss_kib'] / 1024:.0f} MiB on the "
                         f"{b[k + '_small']['bytes'] / 1e6:.1f} MB file) | "
                         f"{b[k]['peak_rss_kib'] / 1024:.0f} MiB | | | bounded | "
                         f"{yes(b[k]['peak_rss_kib'] < 4 * b[k + '_small']['peak_rss_kib'])} |")
    if "timeline" in info:
        tl = {(r["mode"], r["threads"]): r for r in info["timeline"]}
        for mode, what in (("stats", "statistics only (`stats`)"), ("full", "data set kept")):
            one, two, sixteen = tl.get((mode, 1)), tl.get((mode, 2)), tl.get((mode, 16))
            if not (one and two and sixteen):
                continue
            serial = one["serial_cpu_s"] * 1e3
            lines.append(
                f"| loader, split all, {what}: 1 / 2 threads, serial part; parallel efficiency "
                f"at 16 workers estimated on this machine (Amdahl from 1 thread / simulated "
                f"16-way split) | {one['wall_s'] * 1e3:.0f} / {two['wall_s'] * 1e3:.0f} ms, "
                f"serial {serial:.1f} ms CPU | | | efficiency at 16 | "
                f"{sixteen['efficiency_amdahl']:.2f} / {sixteen['efficiency_simulated']:.2f} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if "timeline_text" in info:
        print(info["timeline_text"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(info, f, indent=1)
    if args.readme:
        text = open(args.readme).read()
        block = f"{BEGIN}\n{table}{END}"
        if BEGIN in text and END in text:
            text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text,
                          flags=re.S)
        else:
            text += "\n" + block + "\n"
        with open(args.readme, "w") as f:
            f.write(text)
        print(f"table written into {args.readme}")


if __name__ == "__main__":
    main()
