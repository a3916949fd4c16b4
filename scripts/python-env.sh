#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Python environment of the test suite, in one virtual environment (default build/venv):
#   1. creates it with python3 (-m venv),
#   2. installs CPU torch + torchvision (python/requirements-torch.txt) without their ~3 GB of CUDA
#      wheels, then only the CUDA libraries `import torch` still misses on this machine
#      (python/requirements-torch-cuda-min.txt, then -rest.txt), checking the import each time,
#   3. installs every other python/requirements-*.txt (pinned; torch lines in them are skipped),
#   4. installs groundeval itself (`pip install .`, warnings as errors; ccache when present).
# Prints the time of each step. Usage: scripts/python-env.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-build/venv}
py=${GROUNDEVAL_PYTHON:-python3}
t0=$SECONDS
step() { echo "== python env: $* ($((SECONDS - t0)) s)"; }

if [[ ! -x "$venv/bin/python" ]]; then
  step "creating $venv with $($py --version 2>&1) ($(command -v "$py"))"
  "$py" -m venv "$venv" || { echo "cannot create a virtual environment: on Debian, apt-get install python3-venv" >&2; exit 1; }
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input)

torch_ok() {
  "$venv/bin/python" - <<'PY' >/dev/null 2>&1
import torch, torchvision
b = torch.tensor([[0., 0., 1., 1.], [0., 0., 1., 1.]])
assert torchvision.ops.nms(b, torch.tensor([1., .5]), .5).tolist() == [0]
PY
}
step "torch + torchvision (no CUDA wheels)"
"${pip[@]}" install -q --no-deps -r python/requirements-torch.txt
for tier in min rest; do
  torch_ok && break
  step "import torch fails: adding python/requirements-torch-cuda-$tier.txt"
  "${pip[@]}" install -q --no-deps -r "python/requirements-torch-cuda-$tier.txt"
done
if ! torch_ok; then
  "$venv/bin/python" -c "import torch, torchvision" || true
  echo "python env: torch does not import even with its CUDA libraries" >&2
  exit 1
fi
"$venv/bin/python" -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"

for req in python/requirements-*.txt; do
  case "$req" in python/requirements-torch*.txt) continue ;; esac
  step "installing $req"
  # torch comes from requirements-torch.txt: a torch line here would pull its CUDA wheels.
  grep -viE '^[[:space:]]*(torch|torchvision)([[:space:]<>=!~;\[]|$)' "$req" > "$venv/req-filtered.txt" || true
  "${pip[@]}" install -q -r "$venv/req-filtered.txt"
done

step "installing groundeval (pip install .)"
if command -v ccache >/dev/null 2>&1; then
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
  export CMAKE_CUDA_COMPILER_LAUNCHER=${CMAKE_CUDA_COMPILER_LAUNCHER:-ccache}
fi
"${pip[@]}" install -q . -Ccmake.define.GROUNDEVAL_WERROR=ON
step "done"
