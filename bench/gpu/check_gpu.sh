#!/usr/bin/env bash
# On a GPU machine: the GPU test label, then the same binary under compute-sanitizer
# (memcheck for out-of-bounds/uninitialized accesses, racecheck for shared-memory races).
#   bench/gpu/check_gpu.sh [build-dir]      (default: build)
set -euo pipefail
build="${1:-build}"
ninja -C "$build" test_cuda_gpu test_cuda_host bench_gpu_gpt2
(cd "$build" && ctest -L gpu --output-on-failure)
san=/usr/local/cuda/bin/compute-sanitizer
bin="$build/tests/cuda/test_cuda_gpu"
"$san" --tool memcheck --leak-check full --error-exitcode 1 "$bin"
"$san" --tool racecheck --error-exitcode 1 "$bin" "[attention]"
echo "GPU tests and compute-sanitizer: clean"
