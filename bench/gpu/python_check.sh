#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Python package's CUDA path on a machine with an NVIDIA GPU, torch and torchvision (the
# GPU machine: Python 3.12, no network), in one call of at most ~3 minutes:
#   1. python/tests/test_boxes.py with pytest: box ops on torch CUDA tensors against the CPU path
#      and torchvision (CUDA tests must pass, not skip: -ra lists any skip), the CPU tests too;
#   2. bench/gpu/python_check_bench.py: groundeval.box_iou / max_iou / nms / batched_nms on CUDA
#      tensors against torchvision.ops in the same process (CUDA events, medians), and the
#      framework layer's cost against the C ABI (bench/gpu/run.sh's numbers).
# Uses build-gpu-python/ made on the dev machine by bench/gpu/build_python_bundle.sh.
# Usage: bench/gpu/python_check.sh [OUT]   (writes OUT/python-tests.log, OUT/python-bench.json)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
out=${1:-${OUT:-bench/results/python-gpu-$(date +%Y-%m-%d)}}
mkdir -p "$out"
[[ -d build-gpu-python/site/groundeval ]] || { echo "build-gpu-python missing (bench/gpu/build_python_bundle.sh)"; exit 1; }
export PYTHONPATH="$PWD/build-gpu-python/site:${PYTHONPATH:-}"
export LD_LIBRARY_PATH="$PWD/build-gpu-python/lib:${LD_LIBRARY_PATH:-}"
status=0
echo "== python tests (CUDA path)"
timeout 240 python3 -m pytest python/tests/test_boxes.py -ra -p no:cacheprovider 2>&1 \
  | tee "$out/python-tests.log" | tail -15 || status=1
grep -q " skipped" "$out/python-tests.log" && { echo "CUDA tests were skipped"; status=1; }
echo "== python box ops vs torchvision on the GPU"
timeout 180 python3 bench/gpu/python_check_bench.py --out "$out/python-bench.json" 2>&1 \
  | tee "$out/python-bench.txt" || status=1
echo "== done (status $status)"
exit $status
