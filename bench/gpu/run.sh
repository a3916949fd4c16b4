#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The GPU check, in one call on a machine with an NVIDIA GPU (H100/H200), PyTorch and torchvision:
#   1. uses build-gpu/ (made on the dev machine by bench/gpu/build_bundle.sh) or builds it here,
#   2. runs the [cuda] tests, then compute-sanitizer memcheck and racecheck on them,
#   3. runs the Google Benchmark GPU benchmarks (JSON),
#   4. runs the side-by-side comparison with torchvision (bench/gpu/compare_torchvision.py),
#   5. writes summary.md and the raw files into OUT (default bench/results/<date>-<gpu>/).
# Meant to finish within 8 minutes on one H100. Usage: bench/gpu/run.sh [--quick] [OUT]
set -uo pipefail
cd "$(dirname "$0")/../.."
quick=""
[[ "${1:-}" == "--quick" ]] && { quick="--quick"; shift; }
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr ' ' '-')
out=${1:-${OUT:-bench/results/$(date +%Y-%m-%d)-${gpu:-unknown}}}
mkdir -p "$out"
log() { echo "== $*" | tee -a "$out/summary.md"; }
: > "$out/summary.md"
if [[ ! -x build-gpu/tests/test_cuda ]]; then
  log "build-gpu missing: building (needs Catch2 and Google Benchmark headers)"
  bash bench/gpu/build_bundle.sh || { log "build failed"; exit 1; }
fi
cublas=$(python3 -c 'import nvidia.cublas, os; print(os.path.join(os.path.dirname(nvidia.cublas.__file__), "lib"))' 2>/dev/null || true)
export LD_LIBRARY_PATH="$PWD/build-gpu/lib:/usr/local/cuda/lib64:${cublas}:${LD_LIBRARY_PATH:-}"
{
  echo "# GPU check $(date -u '+%Y-%m-%d %H:%M UTC')"
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.total --format=csv
  echo
} >> "$out/summary.md"

status=0
log "[cuda] tests"
timeout 120 build-gpu/tests/test_cuda "[cuda]" 2>&1 | tee "$out/tests.log" | tail -3 >> "$out/summary.md" || status=1
if command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck; do
    log "compute-sanitizer $tool"
    timeout 180 compute-sanitizer --tool "$tool" --error-exitcode 7 build-gpu/tests/test_cuda "[cuda]" \
      > "$out/sanitizer-$tool.log" 2>&1 && echo "clean" >> "$out/summary.md" || { echo "**errors** (see sanitizer-$tool.log)" >> "$out/summary.md"; status=1; }
    tail -3 "$out/sanitizer-$tool.log"
  done
else
  log "compute-sanitizer not found"
fi
log "benchmarks"
bench_args=(--benchmark_out="$out/bench.json" --benchmark_out_format=json)
[[ -n "$quick" ]] && bench_args+=(--benchmark_min_time=0.05) || bench_args+=(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
timeout 240 build-gpu/bin/bench_iou_cuda "${bench_args[@]}" 2>&1 | tee "$out/bench.txt" | tail -40 || status=1
log "comparison with torchvision"
timeout 240 python3 bench/gpu/compare_torchvision.py --lib build-gpu/lib/libgroundeval_cuda_capi.so --out "$out" $quick \
  2>&1 | tee "$out/compare.md" | tail -30 || status=1
cat "$out/compare.md" >> "$out/summary.md"
log "done (status $status)"
exit $status
