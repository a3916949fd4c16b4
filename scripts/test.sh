#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, as README and CI run it, on a fresh Debian 12 machine:
#   1. installs missing Debian packages (scripts/setup-deps.sh),
#   2. configures and builds everything into build/ with warnings as errors (CUDA kernels, tests,
#      header self-containment checks, examples, benchmarks and the CLI; CUDA only when nvcc is
#      found — tests that need a GPU pass with a "no CUDA device" warning without one),
#   3. runs ctest,
#   4. builds and runs the suite again under AddressSanitizer + UndefinedBehaviorSanitizer in
#      build/sanitize (without CUDA, benchmarks and header checks).
# Set GROUNDEVAL_SKIP_SANITIZE=1 to skip step 4 locally.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

scripts/setup-deps.sh

echo "== configure + build (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGROUNDEVAL_WERROR=ON
cmake --build build -j"$jobs"
echo "== tests (build/)"
ctest --test-dir build --output-on-failure -j"$jobs"

if [[ "${GROUNDEVAL_SKIP_SANITIZE:-0}" != "1" ]]; then
  echo "== configure + build with ASan + UBSan (build/sanitize)"
  cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=Debug -DGROUNDEVAL_WERROR=ON -DGROUNDEVAL_SANITIZE=ON \
        -DGROUNDEVAL_ENABLE_CUDA=OFF -DGROUNDEVAL_BUILD_BENCH=OFF -DGROUNDEVAL_HEADER_CHECK=OFF \
        -DGROUNDEVAL_INSTALL=OFF
  cmake --build build/sanitize -j"$jobs"
  echo "== tests under ASan + UBSan (build/sanitize)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build/sanitize --output-on-failure -j"$jobs"
fi
echo "== all tests passed"
