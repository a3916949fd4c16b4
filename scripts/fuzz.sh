#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer harnesses (fuzz/, clang + ASan + UBSan) in build-fuzz/ and runs each one
# for a fixed time, one after the other, starting from the committed seeds in fuzz/corpus/<h>/.
#   scripts/fuzz.sh --smoke [harness...]       30 s per harness (what CI runs)
#   scripts/fuzz.sh --seconds N [harness...]   N s per harness (default 600)
#   scripts/fuzz.sh --list                     the harness names
# Harness names are the file names without "fuzz_" (e.g. box_parsers); none given: all of them.
# Fails on any crash, sanitizer report, leak, timeout (-timeout=10) or out-of-memory
# (-rss_limit_mb=2048) and prints where the reproducer was written. Everything a run produces
# (new corpus units, logs, reproducers) stays in build-fuzz/fuzz-runs/<harness>/, never in the
# source tree. Environment: GROUNDEVAL_FUZZ_BUILD_DIR (default build-fuzz),
# GROUNDEVAL_FUZZ_JOBS (build parallelism, default nproc), CC/CXX (default clang/clang++).
# Reproduce a finding: build-fuzz/fuzz/fuzz_<harness> <reproducer file>
set -euo pipefail
cd "$(dirname "$0")/.."

all=(flickr30k_sentences flickr30k_xml mdetr_json predictions box_parsers chat_response npy
     npy_detector)
# -max_len per harness: a few times the largest realistic input of that format.
declare -A max_len=([flickr30k_sentences]=4096 [flickr30k_xml]=16384 [mdetr_json]=16384
                    [predictions]=8192 [box_parsers]=2048 [chat_response]=8192 [npy]=4096
                    [npy_detector]=8192)

seconds=600
harnesses=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) seconds=30 ;;
    --seconds) seconds="${2:?--seconds needs a number}"; shift ;;
    --list) printf '%s\n' "${all[@]}"; exit 0 ;;
    -h|--help) sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) [[ -n "${max_len[$1]:-}" ]] || { echo "fuzz.sh: unknown harness '$1' (--list)" >&2; exit 2; }
       harnesses+=("$1") ;;
  esac
  shift
done
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=("${all[@]}")
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "fuzz.sh: bad --seconds" >&2; exit 2; }

build="${GROUNDEVAL_FUZZ_BUILD_DIR:-build-fuzz}"
jobs="${GROUNDEVAL_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"

scripts/setup-deps.sh --with-fuzz

echo "== configure + build the fuzzers ($build)"
CC="${CC:-clang}" CXX="${CXX:-clang++}" cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGROUNDEVAL_FUZZ=ON -DGROUNDEVAL_WERROR=ON -DGROUNDEVAL_BUILD_TESTS=OFF \
  -DGROUNDEVAL_BUILD_CLI=OFF -DGROUNDEVAL_BUILD_EXAMPLES=OFF -DGROUNDEVAL_BUILD_BENCH=OFF \
  -DGROUNDEVAL_ENABLE_CUDA=OFF -DGROUNDEVAL_HEADER_CHECK=OFF -DGROUNDEVAL_INSTALL=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target "${harnesses[@]/#/fuzz_}"

failed=()
summary=()
for h in "${harnesses[@]}"; do
  bin="$build/fuzz/fuzz_$h"
  run="$build/fuzz-runs/$h"
  mkdir -p "$run/corpus"
  args=(-max_total_time="$seconds" -max_len="${max_len[$h]}" -timeout=10 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$run/")
  [[ -f "fuzz/$h.dict" ]] && args+=(-dict="fuzz/$h.dict")
  echo "== fuzz_$h: ${seconds} s (log: $run/log.txt)"
  rm -f "$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-* "$run"/slow-unit-*
  rc=0
  # New units go to the first folder (the run's own); the committed seeds are only read.
  "$bin" "${args[@]}" "$run/corpus" "fuzz/corpus/$h" >"$run/log.txt" 2>&1 || rc=$?
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$run/log.txt" | tail -1 || true)
  last=$(grep -E '^#[0-9]+.* cov: ' "$run/log.txt" | tail -1 |
         sed -E 's/.*(cov: [0-9]+ ft: [0-9]+ corp: [0-9]+\/[0-9]+[a-zA-Z]*).*/\1/' || true)
  stats="execs: ${execs:-?}, ${last:-no coverage line}"
  if [[ $rc -ne 0 ]]; then
    failed+=("$h")
    tail -n 60 "$run/log.txt"
    repro=$(ls "$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-* 2>/dev/null || true)
    echo "!! fuzz_$h FAILED (exit $rc); reproducer: ${repro:-none written, see $run/log.txt}"
    echo "!! reproduce with: $bin ${repro:-<file>}"
    summary+=("fuzz_$h: FAILED ($run/log.txt)")
  else
    summary+=("fuzz_$h: ok, ${stats:-see $run/log.txt}")
  fi
done

echo "== summary (${seconds} s per harness)"
printf '  %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: ${#failed[@]} harness(es) failed: ${failed[*]}" >&2
  exit 1
fi
