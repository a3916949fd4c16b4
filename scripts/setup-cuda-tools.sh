#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Provides NVIDIA's cuobjdump + nvdisasm (the SASS disassembler) for the CPU-side check of the
# pairwise IoU kernels' instruction count (bench/cuda/sass_inst_per_pair.py, ctest
# sass_inst_per_pair). A full CUDA toolkit has them in its bin/; a minimal one (nvcc only, as on
# the development and CI machines) does not, so they come from NVIDIA's PyPI wheels
# nvidia-cuda-cuobjdump and nvidia-cuda-nvdisasm (NVIDIA's CUDA Toolkit EULA, the licence of the
# toolkit itself; 0.3 MB and 4.4 MB), pinned, in a venv under the build folder.
# Usage: scripts/setup-cuda-tools.sh [DIR]   (default build/cuda-tools; prints DIR/bin)
# Idempotent and quiet when the tools are there. Nothing to do without nvcc.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/cuda-tools}
version=13.2.51  # the oldest CUDA 13 release on PyPI; reads the cubins of nvcc 13.0 and later
command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]] || exit 0
if [[ -x "$dir/bin/cuobjdump" && -x "$dir/bin/nvdisasm" ]]; then echo "$dir/bin"; exit 0; fi
python3 -c 'import venv, ensurepip' 2>/dev/null || {
  echo "groundeval: python3-venv is missing (scripts/setup-deps.sh installs it)" >&2; exit 1; }
rm -rf "$dir/venv"
python3 -m venv "$dir/venv"
"$dir/venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
  "nvidia-cuda-cuobjdump==$version" "nvidia-cuda-nvdisasm==$version"
site=$("$dir/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p "$dir/bin"
for tool in cuobjdump nvdisasm; do
  src=$(ls "$site"/nvidia/cu*/bin/$tool | head -1)
  chmod +x "$src"
  ln -sf "$(realpath "$src")" "$dir/bin/$tool"
done
"$dir/bin/cuobjdump" --version | tail -1 >&2
echo "$dir/bin"
