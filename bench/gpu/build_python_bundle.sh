#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds, on the dev machine (nvcc, no GPU), the Python package for the GPU machine's Python 3.12:
# build-gpu-python/site/groundeval (the pure-Python package + _core built for sm_90 with the CUDA
# runtime linked statically), pytest in build-gpu-python/site, and the two Debian libraries the
# extension links (TinyXML2, simdjson) in build-gpu-python/lib; the build itself stays in
# build/gpu-python. Host code is built for x86-64-v3
# (AVX2), not -march=native: the binary runs on another machine. Carry build-gpu-python to the
# device call; bench/gpu/python_check.sh runs it there.
# Needs a CPython 3.12 with headers here: GE_GPU_PYTHON (default: pyenv's 3.12).
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${GE_GPU_PYTHON:-$(ls -d "$HOME"/.pyenv/versions/3.12*/bin/python3 2>/dev/null | head -1)}
[[ -x "$py" ]] || { echo "no Python 3.12 found: set GE_GPU_PYTHON" >&2; exit 1; }
scripts/setup-deps.sh
out=build-gpu-python   # what travels (about 18 MB): site/ and lib/
work=build/gpu-python  # what does not: the 3.12 virtual environment and the CMake build tree
rm -rf "$out" && mkdir -p "$out/site" "$out/lib"
[[ -x "$work/venv/bin/python" ]] || "$py" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check nanobind==3.1.0
cmake -S . -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
      -DGROUNDEVAL_ENABLE_CUDA=ON -DGROUNDEVAL_CUDA_STATIC_RUNTIME=ON -DGROUNDEVAL_BUILD_PYTHON=ON \
      -DPython_EXECUTABLE="$PWD/$work/venv/bin/python" -DGROUNDEVAL_BUILD_TESTS=OFF \
      -DGROUNDEVAL_BUILD_BENCH=OFF -DGROUNDEVAL_BUILD_EXAMPLES=OFF -DGROUNDEVAL_BUILD_CLI=OFF \
      -DGROUNDEVAL_HEADER_CHECK=OFF -DGROUNDEVAL_INSTALL=OFF \
      -DGROUNDEVAL_PYTHON_NATIVE=OFF -DCMAKE_CXX_FLAGS=-march=x86-64-v3 >/dev/null
cmake --build "$work/build" -j"$(nproc)" --target groundeval_python_core
cp -r python/groundeval "$out/site/"
cp "$work"/build/python/_core*.so "$out/site/groundeval/"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check --target "$out/site" \
  pytest==9.2.0
for l in libtinyxml2.so.9 libsimdjson.so.14; do
  cp -L "/usr/lib/x86_64-linux-gnu/$l" "$out/lib/"
done
du -sh "$out"
