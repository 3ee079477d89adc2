#!/usr/bin/env bash
# The fuzzing toolchain (clang 14, libFuzzer, clang's OpenMP), installed from Debian's packages by
# fuzz/run.sh and fuzz/smoke.sh. Kept apart from install-deps.sh: the test suite replays the fuzz
# regressions with the ordinary gcc build and needs none of it.
set -euo pipefail
PACKAGES=(clang-14 libfuzzer-14-dev libomp-14-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
