#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The GPU check, in one call on a machine with an NVIDIA GPU (H100/H200), PyTorch and torchvision:
#   1. uses build-gpu/ (made on the dev machine by bench/gpu/build_bundle.sh) or builds it here,
#   2. runs the [cuda] tests,
#   3. counts the pairwise IoU kernels' instructions per pair in their SASS
#      (bench/cuda/sass_inst_per_pair.py, goal <= 30) and, when Nsight Compute is there, measures
#      the instructions they execute at 16384 x 16384 (ncu, one launch per output type),
#   4. runs the side-by-side comparison with torchvision and, for Grounding DINO post-processing,
#      plain torch (bench/gpu/compare_torchvision.py), which ends with issue 19's goal table:
#      pairwise f32 >= 85 % of the write bandwidth, f16 / u8 >= 1.6x the f32 pair rate, fused max
#      >= 10x at 4096 x 16384 and >= 3x at 100 x 100,000, 1 x 1,000,000 and 16 x 1,000,000, NMS on
#      clustered boxes >= 2x at 1k / 10k / 30k, Grounding DINO <= 100 µs (P = 16) and <= 200 µs
#      (P = 80), each with its measured value and met / not met,
#   5. runs the Google Benchmark GPU benchmarks (JSON),
#   6. runs compute-sanitizer memcheck and racecheck on the [cuda] tests, last because they are
#      the slowest and the least likely to change between runs,
#   7. writes summary.md and at most 8 files in all into OUT (default bench/results/<date>-<gpu>/):
#      summary.md tests.log profile.txt compare.md compare.json bench.txt bench.json sanitizers.log.
# Usage: bench/gpu/run.sh [--quick] [OUT]
# A shorter call: GE_STEPS (default "tests profile compare bench sanitizers") picks the steps,
# GE_BENCH_FILTER (a --benchmark_filter regex) and GE_SANITIZE_TESTS (a Catch2 test spec for the
# sanitizer runs, default [cuda]) narrow steps 5 and 6.
#
# Time: the whole script stays within GE_GPU_BUDGET_S seconds (default 480 = 8 minutes): each step
# runs under `timeout` with min(its own limit, the time left), and a step that would get less than
# 20 s is skipped, marked so in summary.md, and makes the exit status 1. Step limits: tests 120 s,
# profile 60 s, comparison 180 s, benchmarks 150 s (240 s without --quick), each sanitizer 120 s.
# Measured on one H200 on 2026-12-04 (commit 7ad5a89, before issue 19): the whole --quick run took
# 95 s; issue 19 added about a minute of comparison rows and the profile step.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
quick=""
[[ "${1:-}" == "--quick" ]] && { quick="--quick"; shift; }
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr ' ' '-')
out=${1:-${OUT:-bench/results/$(date +%Y-%m-%d)-${gpu:-unknown}}}
mkdir -p "$out"
budget=${GE_GPU_BUDGET_S:-480}
log() { echo "== $*" | tee -a "$out/summary.md"; }
# limit WANT: prints min(WANT, seconds left), or nothing (and logs a skip) when under 20 s are left.
limit() {
  local left=$((budget - SECONDS))
  if ((left < 20)); then
    echo "**skipped** (time budget of ${budget} s spent)" >> "$out/summary.md"
    return 1
  fi
  echo $(($1 < left ? $1 : left))
}
: > "$out/summary.md"
if [[ ! -x build-gpu/tests/test_cuda ]]; then
  log "build-gpu missing: building (needs Catch2 and Google Benchmark headers)"
  bash bench/gpu/build_bundle.sh || { log "build failed"; exit 1; }
fi
# cuBLAS (the post-processing GEMM form): the CUDA toolkit's, or the one of torch's pip wheels
# (nvidia/cublas/lib for CUDA 12 wheels, nvidia/cu13/lib for CUDA 13 ones).
cublas=$(python3 - 2>/dev/null <<'PY' || true
import glob, os, site, sys
dirs = site.getsitepackages() + [site.getusersitepackages()] + sys.path
for d in dirs:
    for f in sorted(glob.glob(os.path.join(d, "nvidia", "**", "libcublas.so.*"), recursive=True)):
        print(os.path.dirname(f))
        raise SystemExit
PY
)
export LD_LIBRARY_PATH="$PWD/build-gpu/lib:/usr/local/cuda/lib64:${cublas}:${LD_LIBRARY_PATH:-}"
{
  echo "# GPU check $(date -u '+%Y-%m-%d %H:%M UTC')"
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.total --format=csv
  echo
} >> "$out/summary.md"

status=0
steps=" ${GE_STEPS:-tests profile compare bench sanitizers} "
want() { [[ "$steps" == *" $1 "* ]]; }
log "[cuda] tests"
if ! want tests; then echo "not asked for (GE_STEPS)" >> "$out/summary.md"
elif t=$(limit 120); then
  timeout "$t" build-gpu/tests/test_cuda "[cuda]" 2>&1 | tee "$out/tests.log" | tail -3 >> "$out/summary.md" || status=1
else status=1; fi

log "instructions per pair of the pairwise IoU kernels (SASS: goal <= 30; ncu: executed)"
if ! want profile; then echo "not asked for (GE_STEPS)" >> "$out/summary.md"
elif t=$(limit 60); then
  {
    timeout "$t" python3 bench/cuda/sass_inst_per_pair.py build-gpu/kernels/libgroundeval_cuda.a --arch sm_90 \
      --goal 30 --check f32,f16,bf16,u8 || echo "SASS check FAILED"
    if command -v ncu >/dev/null; then
      for kind in "f32 IfLb1E" "f16 I6__halfLb1E" "u8 IhLb1E"; do
        set -- $kind
        timeout 30 ncu --clock-control none --print-units base --kernel-name-base mangled -k "regex:pairwise_iou_kernel$2" \
          --launch-count 1 --metrics smsp__thread_inst_executed.sum,smsp__inst_executed.sum,gpu__time_duration.sum \
          --csv build-gpu/bin/bench_iou_cuda --benchmark_filter="pairwise_iou_$1/16384/16384" \
          --benchmark_min_time=0.01 2>/dev/null | python3 -c '
import csv, sys
rows = [r for r in csv.reader(l for l in sys.stdin if l.startswith("\""))]
head, vals = rows[0], {}
for r in rows[1:]:
    vals[r[head.index("Metric Name")]] = float(r[head.index("Metric Value")].replace(",", ""))
pairs = 16384 * 16384
thr, warp, ns = (vals[k] for k in ("smsp__thread_inst_executed.sum", "smsp__inst_executed.sum", "gpu__time_duration.sum"))
print(f"ncu {sys.argv[1]} 16384x16384: {thr / pairs:.2f} thread instructions per pair executed "
      f"({warp:.0f} warp instructions, {ns / 1e3:.1f} us under ncu)")
' "$1" || echo "ncu $1: no result"
      done
    else
      echo "ncu not found: executed instructions not measured"
    fi
  } 2>&1 | tee "$out/profile.txt" >> "$out/summary.md"
else status=1; fi

log "comparison with torchvision (and torch for Grounding DINO post-processing), issue 19's goals"
if ! want compare; then echo "not asked for (GE_STEPS)" >> "$out/summary.md"
elif t=$(limit 180); then
  PYTHONUNBUFFERED=1 timeout "$t" python3 bench/gpu/compare_torchvision.py --lib build-gpu/lib/libgroundeval_cuda_capi.so --out "$out" $quick \
    2>&1 | tee "$out/compare.md" | tail -40 || status=1
  cat "$out/compare.md" >> "$out/summary.md"
else status=1; fi

log "benchmarks"
bench_args=(--benchmark_out="$out/bench.json" --benchmark_out_format=json)
[[ -n "$quick" ]] && bench_args+=(--benchmark_min_time=0.05) || bench_args+=(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
[[ -n "${GE_BENCH_FILTER:-}" ]] && bench_args+=(--benchmark_filter="$GE_BENCH_FILTER")
if ! want bench; then echo "not asked for (GE_STEPS)" >> "$out/summary.md"
elif t=$(limit "$([[ -n "$quick" ]] && echo 150 || echo 240)"); then
  timeout "$t" build-gpu/bin/bench_iou_cuda "${bench_args[@]}" 2>&1 | tee "$out/bench.txt" | tail -70 || status=1
else status=1; fi

if ! want sanitizers; then
  log "compute-sanitizer: not asked for (GE_STEPS)"
elif command -v compute-sanitizer >/dev/null; then
  : > "$out/sanitizers.log"
  for tool in memcheck racecheck; do
    log "compute-sanitizer $tool"
    t=$(limit 120) || { status=1; continue; }
    echo "=== $tool" >> "$out/sanitizers.log"
    timeout "$t" compute-sanitizer --tool "$tool" --error-exitcode 7 build-gpu/tests/test_cuda "${GE_SANITIZE_TESTS:-[cuda]}" \
      >> "$out/sanitizers.log" 2>&1 && echo "clean" >> "$out/summary.md" || { echo "**errors or timeout** (see sanitizers.log)" >> "$out/summary.md"; status=1; }
    tail -3 "$out/sanitizers.log"
  done
else
  log "compute-sanitizer not found"
fi
log "done (status $status, ${SECONDS} s)"
exit $status
