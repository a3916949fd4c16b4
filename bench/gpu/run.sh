#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The GPU check, in one call on a machine with an NVIDIA GPU (H100/H200), PyTorch and torchvision:
#   1. uses build-gpu/ (made on the dev machine by bench/gpu/build_bundle.sh) or builds it here,
#   2. runs the [cuda] tests,
#   3. runs the Google Benchmark GPU benchmarks (JSON),
#   4. runs the side-by-side comparison with torchvision and, for Grounding DINO post-processing,
#      plain torch (bench/gpu/compare_torchvision.py),
#   5. runs compute-sanitizer memcheck and racecheck on the [cuda] tests, last because they are
#      the slowest and the least likely to change between runs,
#   6. writes summary.md and the raw files into OUT (default bench/results/<date>-<gpu>/).
# Usage: bench/gpu/run.sh [--quick] [OUT]
#
# Time: the whole script stays within GE_GPU_BUDGET_S seconds (default 480 = 8 minutes): each step
# runs under `timeout` with min(its own limit, the time left), and a step that would get less than
# 20 s is skipped, marked so in summary.md, and makes the exit status 1. Step limits: tests 120 s,
# benchmarks 240 s (300 s without --quick), comparison 240 s, each sanitizer 180 s. Estimates for --quick on one H100
# (sizes counted, not yet measured): the benchmark binary has 48 cases (35 IoU / NMS, 13
# post-processing: 3 forms x {B32 P16 k100, B32 P16 k300, B32 P80 k300, B1 P16 k300} + MDETR);
# with --benchmark_min_time=0.05 each case takes about 3 calls of its setup (host generation of
# 8 rotated 30 MB input sets for B32, ~0.2 s) plus ~0.1 s of timing: about 15 s for the
# post-processing cases, under a minute in all. The comparison script (reps 5 x 3 in --quick)
# takes well under a minute after torch's start. Without --quick (3 repetitions of 0.5 s) the
# benchmarks take an estimated 2.5-3.5 minutes, hence their 300 s limit.
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
log "[cuda] tests"
if t=$(limit 120); then
  timeout "$t" build-gpu/tests/test_cuda "[cuda]" 2>&1 | tee "$out/tests.log" | tail -3 >> "$out/summary.md" || status=1
else status=1; fi
log "benchmarks"
bench_args=(--benchmark_out="$out/bench.json" --benchmark_out_format=json)
[[ -n "$quick" ]] && bench_args+=(--benchmark_min_time=0.05) || bench_args+=(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
if t=$(limit "$([[ -n "$quick" ]] && echo 240 || echo 300)"); then
  timeout "$t" build-gpu/bin/bench_iou_cuda "${bench_args[@]}" 2>&1 | tee "$out/bench.txt" | tail -60 || status=1
else status=1; fi
log "comparison with torchvision (and torch for Grounding DINO post-processing)"
if t=$(limit 240); then
  timeout "$t" python3 bench/gpu/compare_torchvision.py --lib build-gpu/lib/libgroundeval_cuda_capi.so --out "$out" $quick \
    2>&1 | tee "$out/compare.md" | tail -30 || status=1
  cat "$out/compare.md" >> "$out/summary.md"
else status=1; fi
if command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck; do
    log "compute-sanitizer $tool"
    t=$(limit 180) || { status=1; continue; }
    timeout "$t" compute-sanitizer --tool "$tool" --error-exitcode 7 build-gpu/tests/test_cuda "[cuda]" \
      > "$out/sanitizer-$tool.log" 2>&1 && echo "clean" >> "$out/summary.md" || { echo "**errors or timeout** (see sanitizer-$tool.log)" >> "$out/summary.md"; status=1; }
    tail -3 "$out/sanitizer-$tool.log"
  done
else
  log "compute-sanitizer not found"
fi
log "done (status $status, ${SECONDS} s)"
exit $status
