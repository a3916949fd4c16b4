#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job on bundled and generated data, with no network: installs missing packages, builds
# into build/, runs the examples, then the command-line tool end to end: statistics, evaluation and
# a paired comparison on a small SYNTHETIC data set in the exact Flickr30k Entities format
# (scripts/generate_flickr30k.py) with SYNTHETIC predictions (scripts/generate_predictions.py),
# then `groundeval demo`: baseline runs and a replay of SYNTHETIC predictions over the six bundled
# photographs with hand-made annotations (data/demo-photos), and the HTML report.
# Nothing here is a real model's output. Output folder: ./groundeval-demo (or $1).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-groundeval-demo}
scripts/setup-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target groundeval_examples groundeval_cli
# `groundeval demo` claims the output folder first (it writes only into a new or empty folder or
# its own earlier output, marked by .groundeval-demo); its table is printed at the end.
demo_log=$(mktemp)
trap 'rm -f "$demo_log"' EXIT
build/bin/groundeval demo --out "$out" >"$demo_log"
for e in build/bin/example_*; do
  case "$(basename "$e")" in
    example_03_runner) args=("$out/example03-run") ;;            # its run directory
    example_04_csv_dataset) args=(examples/04_csv_dataset/phrases.csv) ;;
    example_06_plugin_cli) continue ;;  # a whole CLI: `groundeval demo` shows the same commands
    *) args=() ;;
  esac
  echo "== $e ${args[*]}"
  "$e" "${args[@]}"
done
data="$out/flickr30k-synthetic"
echo "== synthetic data set (exact on-disk format, made-up content): $data"
rm -rf "$data"
python3 scripts/generate_flickr30k.py --scale 0.02 --seed 7 "$data" >/dev/null
build/bin/groundeval stats --dataset "flickr30k:$data" --split test --json "$out/stats.json"
echo "== two synthetic prediction files (10 ranked boxes per phrase, different seeds)"
python3 scripts/generate_predictions.py --flickr "$data" --split test --format jsonl --boxes 10 \
  --seed 1 --no-noise --out "$out/synthetic_a.jsonl"
python3 scripts/generate_predictions.py --flickr "$data" --split test --format jsonl --boxes 10 \
  --seed 2 --no-noise --out "$out/synthetic_b.jsonl"
echo "== groundeval evaluate"
build/bin/groundeval evaluate --dataset "flickr30k:$data" --split test \
  --predictions "$out/synthetic_a.jsonl" --json "$out/evaluate_a.json"
echo "== groundeval compare"
build/bin/groundeval compare "$out/synthetic_a.jsonl" "$out/synthetic_b.jsonl" \
  --dataset "flickr30k:$data" --split test --json "$out/compare.json" | head -40
echo "== groundeval demo: baselines + a SYNTHETIC replay on the bundled photographs, then report"
cat "$demo_log"
echo "== done: reports in $out/ (HTML report: $out/report/index.html)"
