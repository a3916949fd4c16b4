#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The one-command end-to-end benchmark (issue 20): the groundeval command line against the
# reference, side by side in one run, ratios written into bench/README.md.
#
#   GROUNDEVAL_MDETR=~/src/mdetr bench/run.sh [--repeat N] [--no-readme] [--big] [--quick]
#
# GROUNDEVAL_MDETR: a checkout of https://github.com/ashkamath/mdetr (commit ea09acc was used;
# groundeval does not ship it): its datasets/flickr_eval.py is the reference evaluator and
# parsers. The script
#   1. configures and builds build/ (Release, benchmarks on, CUDA off) when the binaries are
#      missing or older than the sources (GROUNDEVAL_BUILD_DIR overrides the folder);
#   2. generates the full-scale synthetic data set and the test split's predictions (MDETR JSON
#      and JSON Lines, 10 boxes per phrase) under $GROUNDEVAL_BENCH_DIR (default
#      /tmp/groundeval_bench) when missing (~20 s);
#   3. makes a Python venv with numpy (pinned, from PyPI) in the build folder for the reference;
#   4. runs scripts/bench_end_to_end.py: `evaluate` (both formats) vs MDETR's evaluator, whole
#      runs; `stats --split all` vs the reference parsers; the predictions reading speed; the
#      loader's phases and parallel efficiency; with --big the peak memory of `evaluate` on
#      ~1 GB predictions files; medians of N rounds (default 7, at least 5), the machine and its
#      load named; and writes the table into bench/README.md (not with --no-readme).
# --quick: 5 rounds, no reading-speed or loader runs (a few minutes less).
# Takes about 3 minutes (plus 1 with --big) on the 2-core development VM.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${GROUNDEVAL_BUILD_DIR:-$here/build}"
bench="${GROUNDEVAL_BENCH_DIR:-/tmp/groundeval_bench}"
mdetr="${GROUNDEVAL_MDETR:-}"
repeat=7
readme=(--readme "$here/bench/README.md")
extra=()
quick=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeat) repeat="${2:?--repeat needs a number}"; shift ;;
    --no-readme) readme=() ;;
    --big) extra+=(--big) ;;
    --quick) quick=1; repeat=5 ;;
    -h|--help) awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$mdetr" || ! -f "$mdetr/datasets/flickr_eval.py" ]]; then
  echo "bench/run.sh: set GROUNDEVAL_MDETR to a checkout of https://github.com/ashkamath/mdetr" >&2
  echo "  (git clone https://github.com/ashkamath/mdetr ~/src/mdetr; commit ea09acc was used)" >&2
  exit 2
fi

echo "== build ($build)"
export CMAKE_CXX_COMPILER_LAUNCHER="${CMAKE_CXX_COMPILER_LAUNCHER:-$(command -v ccache || true)}"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGROUNDEVAL_BUILD_BENCH=ON \
        -DGROUNDEVAL_ENABLE_CUDA=OFF >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target groundeval_cli bench_evaluate bench_load_timeline \
  >/dev/null

echo "== data ($bench)"
data="$bench/flickr30k"
if [[ ! -f "$data/expected_stats.json" ]]; then
  python3 "$here/scripts/generate_flickr30k.py" "$data"
fi
for fmt in mdetr jsonl; do
  out="$bench/test_predictions.${fmt/mdetr/json}"
  [[ -f "$out" ]] || python3 "$here/scripts/generate_predictions.py" --flickr "$data" \
                       --split test --out "$out" --format "$fmt" --boxes 10 --seed 0
done

venv="$build/bench-venv"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import numpy" 2>/dev/null; then
  echo "== Python venv with numpy ($venv)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet numpy==2.3.5
fi

args=(--groundeval "$build/bin/groundeval" --data "$data" --data-dir "$here/data"
      --predictions "$bench/test_predictions.json" --predictions-jsonl "$bench/test_predictions.jsonl"
      --mdetr "$mdetr" --python "$venv/bin/python" --repeat "$repeat"
      --json "$bench/end_to_end.json")
if [[ $quick -eq 0 ]]; then
  args+=(--bench-evaluate "$build/bin/bench_evaluate" --bench-load-timeline "$build/bin/bench_load_timeline")
fi
python3 "$here/scripts/bench_end_to_end.py" "${args[@]}" "${readme[@]}" "${extra[@]}"
echo "== all numbers: $bench/end_to_end.json"
