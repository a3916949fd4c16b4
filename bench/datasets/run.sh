#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Loading benchmark of the Flickr30k Entities loader (and the MDETR JSON loader), one command:
#   bench/datasets/run.sh [BUILD_DIR] [MDETR_CHECKOUT]
# BUILD_DIR (default build/) must hold bin/bench_datasets and bin/groundeval (configure with
# -DGROUNDEVAL_BUILD_BENCH=ON). Prints, in this order: the machine load (uptime), Google Benchmark
# wall/CPU times of the full load (split all, 31,783 images) and its parts, the callgrind
# instruction count of loading the test split on one thread (stable on a shared machine; needs
# valgrind), the MDETR-format JSON parse/load times when $GROUNDEVAL_BENCH_MDETR_JSON names a file,
# and, with MDETR_CHECKOUT (a checkout of ashkamath/mdetr), the side-by-side comparison with the
# reference Python parsers (scripts/bench_reference_parsers.py). The data set is generated at
# $GROUNDEVAL_BENCH_FLICKR_DIR (default /tmp/groundeval_bench_flickr30k) when missing.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$here/build}"
mdetr="${2:-}"
data="${GROUNDEVAL_BENCH_FLICKR_DIR:-/tmp/groundeval_bench_flickr30k}"
export GROUNDEVAL_BENCH_FLICKR_DIR="$data"
if [[ ! -f "$data/expected_stats.json" ]]; then
  python3 "$here/scripts/generate_flickr30k.py" "$data"
fi
echo "== machine: $(nproc) CPUs; $(uptime)"
echo "== bench_datasets (wall = real time; medians of 3)"
"$build/bin/bench_datasets" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_filter='BM_load_flickr30k/[01]/1|BM_read_files_only|BM_parse_(xml|sentences)_only'
if command -v valgrind >/dev/null 2>&1; then
  echo "== callgrind: instructions of load_flickr30k_entities_detailed, split test, 1 thread"
  out="$(mktemp)"
  valgrind --tool=callgrind --callgrind-out-file="$out" \
    --toggle-collect='groundeval::load_flickr30k_entities_detailed*' \
    "$build/bin/groundeval" stats --dataset "flickr30k:$data" --split test --threads 1 \
    >/dev/null 2>"$out.log" || { cat "$out.log"; exit 1; }
  ir="$(grep -o 'Collected : [0-9]*' "$out.log" | grep -o '[0-9]*$')"
  images="$(grep -c . "$data/test.txt")"
  echo "instructions: $ir for $images images = $((ir / images)) per image"
  rm -f "$out" "$out.log"
fi
if [[ -n "${GROUNDEVAL_BENCH_MDETR_JSON:-}" ]]; then
  echo "== MDETR-format JSON: $GROUNDEVAL_BENCH_MDETR_JSON"
  "$build/bin/bench_datasets" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
    --benchmark_filter='mdetr'
fi
if [[ -n "$mdetr" ]]; then
  echo "== reference Python parsers vs groundeval (same run)"
  python3 "$here/scripts/bench_reference_parsers.py" --mdetr "$mdetr" --data "$data" \
    --bench "$build/bin/bench_datasets" --groundeval "$build/bin/groundeval" --split all --repeat 3
fi
echo "== done: $(uptime)"
