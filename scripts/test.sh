#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, as README and CI run it, on a fresh Debian 12 machine:
#   1. installs missing Debian packages (scripts/setup-deps.sh) and checks that every C++/CUDA
#      source is clang-formatted (scripts/check-format.sh),
#   1b. makes the Python environment build/venv (scripts/python-env.sh: pinned test dependencies,
#      CPU torch + torchvision, and groundeval itself via `pip install .`); the CMake builds below
#      find Python there (VIRTUAL_ENV), so the Python checks of ctest run with torch,
#   2. configures and builds everything into build/ with warnings as errors (CUDA kernels, tests,
#      header self-containment checks, examples, benchmarks and the CLI; CUDA only when nvcc is
#      found — tests that need a GPU are reported as skipped without one; the SASS instruction
#      count check of the CUDA kernels runs everywhere, with cuobjdump from
#      scripts/setup-cuda-tools.sh),
#   3. runs ctest, then the Python tests (pytest over python/tests, in build/venv),
#   4. builds and runs the suite again under AddressSanitizer + UndefinedBehaviorSanitizer in
#      build/sanitize (without CUDA, benchmarks and header checks),
#   5. and once more under ThreadSanitizer in build/tsan (the threaded parts: parallel IoU and
#      evaluation, the runner's concurrent requests, the HTTP client and its test server),
#   6. builds the libFuzzer harnesses with clang (build-fuzz/) and fuzzes every parser for 30 s
#      from the committed seeds (scripts/fuzz.sh --smoke; docs/fuzzing.md).
# Set GROUNDEVAL_SKIP_SANITIZE=1 to skip steps 4 and 5, GROUNDEVAL_SKIP_FUZZ=1 to skip step 6.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

scripts/setup-deps.sh
echo "== format (clang-format)"
scripts/check-format.sh
scripts/setup-cuda-tools.sh build/cuda-tools >/dev/null  # cuobjdump for the SASS check (CUDA only)

echo "== Python environment (build/venv)"
scripts/python-env.sh build/venv
export VIRTUAL_ENV="$PWD/build/venv"  # FindPython3 looks in the active virtual environment first

echo "== configure + build (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGROUNDEVAL_WERROR=ON
cmake --build build -j"$jobs"
echo "== tests (build/)"
ctest --test-dir build --output-on-failure -j"$jobs" 2>&1 | tee build/ctest.log
# The torch reference check needs build/venv's torch; it must run, not skip, here.
if grep -E "postprocess_gdino_torch_reference .*(Skipped|Not Run)" build/ctest.log; then
  echo "postprocess_gdino_torch_reference did not run (torch missing from build/venv?)" >&2
  exit 1
fi
echo "== Python tests (build/venv, pytest python/tests)"
set +e
GROUNDEVAL_TEST_CLI="$PWD/build/bin/groundeval" build/venv/bin/python -m pytest python/tests -ra \
  -p no:cacheprovider
rc=$?
set -e
if [[ $rc -eq 5 ]]; then echo "pytest collected no tests" >&2; exit 1; fi
[[ $rc -eq 0 ]] || exit "$rc"

# sanitized_suite DIR TITLE BUILD_TYPE CMAKE_OPTION: the suite without CUDA, benchmarks and header
# checks, built and run under a sanitizer (its runtime options come from the environment).
sanitized_suite() {
  echo "== configure + build with $2 ($1)"
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE="$3" -DGROUNDEVAL_WERROR=ON "$4" \
        -DGROUNDEVAL_ENABLE_CUDA=OFF -DGROUNDEVAL_BUILD_BENCH=OFF -DGROUNDEVAL_HEADER_CHECK=OFF \
        -DGROUNDEVAL_INSTALL=OFF
  cmake --build "$1" -j"$jobs"
  echo "== tests under $2 ($1)"
  ctest --test-dir "$1" --output-on-failure -j"$jobs"
}

if [[ "${GROUNDEVAL_SKIP_SANITIZE:-0}" != "1" ]]; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    sanitized_suite build/sanitize "ASan + UBSan" Debug -DGROUNDEVAL_SANITIZE=ON
  # die_after_fork=0: the cache crash test forks a child that starts client threads (and is
  # SIGKILLed); tests/tsan.supp says why Debian's uninstrumented libcpp-httplib is suppressed.
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:die_after_fork=0:suppressions=$PWD/tests/tsan.supp" \
    sanitized_suite build/tsan ThreadSanitizer RelWithDebInfo -DGROUNDEVAL_TSAN=ON
fi
if [[ "${GROUNDEVAL_SKIP_FUZZ:-0}" != "1" ]]; then
  scripts/fuzz.sh --smoke
fi
echo "== all tests passed"
