#!/usr/bin/env bash
# Installs every build, test and benchmark dependency from Debian's packages, or with arguments,
# just the packages named (fuzz/run.sh asks for the fuzzing toolchain this way).
# Idempotent: a machine that already has them only pays for the dpkg check.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ccache
  libeigen3-dev libboost-dev libboost-program-options-dev
  qt6-base-dev qt6-svg-dev libqcustomplot-dev libgl-dev
  catch2 libtomlplusplus-dev nlohmann-json3-dev libsqlite3-dev sqlite3 libicu-dev
  python3-torch python3-numpy libopenblas0-pthread libopenblas0-openmp
  python3-dev pybind11-dev python3-pandas python3-pytest python3-matplotlib python3-nbconvert python3-ipykernel
  xvfb xauth poppler-utils fonts-dejavu-core
  slurmctld slurmd slurm-client munge
)
(($#)) && PACKAGES=("$@")

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
