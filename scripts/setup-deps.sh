#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages groundeval needs, when any is missing. Idempotent and quiet
# when everything is present. Usage: scripts/setup-deps.sh [--with-fuzz]
set -euo pipefail

packages=(cmake g++ make pkg-config python3 catch2 libbenchmark-dev libeigen3-dev libxtensor-dev
          libtinyxml2-dev libstb-dev nlohmann-json3-dev libsimdjson-dev libcpp-httplib-dev
          libssl-dev)
[[ -f "$(dirname "$0")/extra-packages.txt" ]] && mapfile -t -O "${#packages[@]}" packages < <(grep -v '^#' "$(dirname "$0")/extra-packages.txt" | sed '/^$/d')
if [[ "${1:-}" == "--with-fuzz" ]]; then packages+=(clang libclang-rt-14-dev); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "groundeval: installing missing Debian packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "groundeval: these packages are missing and installing them needs root:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "groundeval: packages installed"
