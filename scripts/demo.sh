#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job on the bundled data: installs missing packages, builds into build/ and runs the
# examples (until `groundeval demo` exists, this is what the project can show end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target groundeval_examples
for e in build/bin/example_*; do
  echo "== $e"
  "$e"
done
