#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The loader on a 16-core machine (the GPU machine's CPU side), within 90 s: prints a table and,
# when $OUT is set, writes it and the raw numbers there (loader16.txt, timeline.json).
#   bash bench/gpu/loader16.sh
# Needs build-loader16/bundle from bench/gpu/build_loader16.sh (run on the dev machine, carried
# along) and python3. Steps, each under a time limit:
#   1. generates the full-scale synthetic data set (scripts/generate_flickr30k.py, 31,783 images)
#      in $GROUNDEVAL_BENCH_DIR (default /tmp/groundeval_bench16) unless present, and reads every
#      file once (warm page cache);
#   2. bench_load_timeline --threads 1,2,4,8,16: per thread count the median of 3 loads, their
#      phases (split lists, parallel part, merge), the workers' CPU, and the efficiency measured
#      (T1 / (N TN)) and estimated (Amdahl; simulated N-way split), for both modes: statistics
#      only (`groundeval stats`) and data set kept (`evaluate`);
#   3. the whole `groundeval stats --split all --threads N` command, N = 1, 2, 4, 8, 16, 3 runs
#      each (process start to exit);
#   4. the reference Python parsers (MDETR's get_annotations + get_sentence_data) once, when
#      build-loader16/bundle/mdetr/datasets/flickr_eval.py is there, with the count cross-check.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
start=$SECONDS
bundle=build-loader16/bundle
data="${GROUNDEVAL_BENCH_DIR:-/tmp/groundeval_bench16}/flickr30k"
report=$(mktemp)
say() { echo "$*" | tee -a "$report"; }
left() { echo $((88 - (SECONDS - start))); }
# Only the bundle's own programs see its libraries (python3 keeps the machine's).
lib="$PWD/$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
ge() { LD_LIBRARY_PATH="$lib" "$bundle/bin/groundeval" "$@"; }
[[ -x "$bundle/bin/bench_load_timeline" ]] || { echo "no $bundle: run bench/gpu/build_loader16.sh first" >&2; exit 1; }

say "== loader16: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name:[ \t]*//p' | head -1); load $(uptime | sed 's/.*load average: //'); commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if [[ ! -f "$data/expected_stats.json" ]]; then
  timeout 45 python3 scripts/generate_flickr30k.py "$data" >/dev/null || { say "generation failed or too slow"; exit 1; }
fi
say "data ready at +$((SECONDS - start)) s: $data"
# Warm the page cache (a pipe: the 63,566 file names never pass through argv).
timeout 20 tar -C "$data" -cf - Annotations Sentences | cat >/dev/null

json=$(mktemp)
timeout "$(left)" env LD_LIBRARY_PATH="$lib" "$bundle/bin/bench_load_timeline" --root "$data" \
  --threads 1,2,4,8,16 --repeat 3 --mode both --data-dir "$PWD/data" --json "$json" | tee -a "$report"

if ge version >/dev/null 2>&1; then
  say "== whole command: groundeval stats --split all --threads N (wall s, 3 runs each)"
  for n in 1 2 4 8 16; do
    (( $(left) > 5 )) || { say "(out of time)"; break; }
    line="threads=$n:"
    for r in 1 2 3; do
      t0=$(date +%s%N)
      timeout "$(left)" env LD_LIBRARY_PATH="$lib" "$bundle/bin/groundeval" stats \
        --dataset "flickr30k:$data" --split all --threads "$n" >/dev/null || line="$line failed"
      line="$line $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    done
    say "$line"
  done
else
  say "(groundeval CLI not runnable here: $(ge version 2>&1 | head -1))"
fi

if [[ -f "$bundle/mdetr/datasets/flickr_eval.py" ]] && (( $(left) > 15 )); then
  say "== reference Python parsers (MDETR get_annotations + get_sentence_data), 1 run"
  printf '#!/bin/sh\nLD_LIBRARY_PATH="%s" exec "%s" "$@"\n' "$lib" "$PWD/$bundle/bin/groundeval" \
    > "$bundle/groundeval.sh" && chmod +x "$bundle/groundeval.sh"
  timeout "$(left)" python3 scripts/bench_reference_parsers.py --mdetr "$bundle/mdetr" \
    --data "$data" --split all --repeat 1 --groundeval "$bundle/groundeval.sh" 2>&1 |
    grep -E "^reference|cross-check" | tee -a "$report"
else
  say "(reference parsers skipped: no $bundle/mdetr/datasets/flickr_eval.py or no time left)"
fi
say "== done in $((SECONDS - start)) s"
if [[ -n "${OUT:-}" ]]; then
  mkdir -p "$OUT"
  cp "$report" "$OUT/loader16.txt"
  cp "$json" "$OUT/timeline.json"
fi
rm -f "$report" "$json"
