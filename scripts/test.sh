#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build
ctest --output-on-failure -LE gpu -j1 "$@"
