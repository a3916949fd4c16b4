#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds, on the dev machine, what bench/gpu/loader16.sh runs on the 16-core GPU machine (whose
# image has Python and numpy but none of Debian's -dev or library packages):
# build-loader16/bundle/
#   bin/bench_load_timeline, bin/groundeval   portable x86-64 (no -march=native), libstdc++ and
#                                             libgcc linked in where the program links them
#   lib/                                      the shared libraries they need beyond glibc
#                                             (TinyXML2, simdjson, OpenSSL, ...), from Debian
#   mdetr/datasets/flickr_eval.py             the reference parsers, copied from $GROUNDEVAL_MDETR
#                                             when set (a checkout of ashkamath/mdetr; not shipped)
# About 16 MiB: carry build-loader16/bundle to the device call (the build tree beside it stays
# here). Takes a few minutes (ccache helps).
set -euo pipefail
cd "$(dirname "$0")/../.."
tree=build-loader16/tree
out=build-loader16/bundle
export CMAKE_CXX_COMPILER_LAUNCHER="${CMAKE_CXX_COMPILER_LAUNCHER:-$(command -v ccache || true)}"
cmake -S . -B "$tree" -DCMAKE_BUILD_TYPE=Release -DGROUNDEVAL_NATIVE=OFF -DGROUNDEVAL_ENABLE_CUDA=OFF \
      -DGROUNDEVAL_BUILD_TESTS=OFF -DGROUNDEVAL_BUILD_EXAMPLES=OFF -DGROUNDEVAL_BUILD_BENCH=ON \
      -DGROUNDEVAL_HEADER_CHECK=OFF -DGROUNDEVAL_INSTALL=OFF \
      "-DCMAKE_EXE_LINKER_FLAGS=-static-libstdc++ -static-libgcc" >/dev/null
cmake --build "$tree" -j"$(nproc)" --target bench_load_timeline groundeval_cli
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
cp "$tree/bin/bench_load_timeline" "$tree/bin/groundeval" "$out/bin/"
# Every shared library of the two programs except glibc's own (the GPU machine has a newer one).
for bin in "$out/bin/bench_load_timeline" "$out/bin/groundeval"; do
  ldd "$bin" | awk '$3 ~ /^\// {print $3}' |
    grep -vE '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so' |
    while read -r lib; do cp -L "$lib" "$out/lib/"; done
done
if [[ -n "${GROUNDEVAL_MDETR:-}" && -f "$GROUNDEVAL_MDETR/datasets/flickr_eval.py" ]]; then
  mkdir -p "$out/mdetr/datasets"
  cp "$GROUNDEVAL_MDETR/datasets/flickr_eval.py" "$out/mdetr/datasets/"
fi
du -sh "$out/bin/bench_load_timeline" "$out/bin/groundeval" "$out/lib"
ls "$out/lib"
