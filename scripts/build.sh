#!/usr/bin/env bash
# Configures and builds attnlab into build/ (Release). Installs dependencies first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Checkouts under the same parent share ccache entries (paths are made relative to it).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(cd .. && pwd)}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
ninja -C build -j"$(nproc)"
