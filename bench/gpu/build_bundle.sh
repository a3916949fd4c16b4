#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds, on the dev machine (nvcc, no GPU), the GPU binaries that bench/gpu/run.sh runs on the GPU
# machine: build-gpu/{tests/test_cuda, bin/bench_iou_cuda, lib/libgroundeval_cuda_capi.so} for
# sm_90 with the CUDA runtime linked statically, plus Debian's libbenchmark beside them (the GPU
# machine's image has no Google Benchmark). Carry build-gpu to the device call.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/setup-deps.sh
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
      -DGROUNDEVAL_ENABLE_CUDA=ON -DGROUNDEVAL_CUDA_STATIC_RUNTIME=ON -DGROUNDEVAL_HEADER_CHECK=OFF \
      -DGROUNDEVAL_BUILD_EXAMPLES=OFF -DGROUNDEVAL_BUILD_CLI=OFF -DGROUNDEVAL_NATIVE=OFF >/dev/null
cmake --build build-gpu -j"$(nproc)" --target test_cuda bench_iou_cuda groundeval_cuda_capi
mkdir -p build-gpu/lib
cp -L /usr/lib/x86_64-linux-gnu/libbenchmark.so.1debian build-gpu/lib/
du -sh build-gpu/tests/test_cuda build-gpu/bin/bench_iou_cuda build-gpu/lib
