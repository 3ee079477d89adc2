#!/usr/bin/env bash
# On the device machine: unpacks .gpukit/kit.tar.xz (bench/gpu/make_kit.sh) and runs, by part:
#   tests     the GPU test label (every kernel, the GPU model, training, analyze) and the host tests
#   sanitize  compute-sanitizer memcheck and racecheck on the kernel tests
#   bench     GPT-2-small training and T=16384 statistics against PyTorch (ratios printed)
#   all       the three, in that order
# Each call of the device tool may run 10 minutes: run the parts in separate calls if needed.
# Logs land in $OUT (the device tool brings them back) or /tmp/attnlab-kit-out.
set -uo pipefail
cd "$(dirname "$0")/../.."
part="${1:-all}"
kit=/tmp/attnlab-kit
out="${OUT:-/tmp/attnlab-kit-out}"
mkdir -p "$out"
# Unpack again whenever the carried kit differs from the one unpacked: the machine stays warm
# between calls, and a kit rebuilt after a fix must not be tested with the old binaries.
[ -f .gpukit/kit.tar.xz ] || { echo "no .gpukit/kit.tar.xz: run bench/gpu/make_kit.sh and carry .gpukit"; exit 1; }
stamp="$(sha256sum .gpukit/kit.tar.xz | cut -d' ' -f1)"
if [ "$(cat "$kit/KIT_SHA256" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$kit" && mkdir -p "$kit" && tar -C "$kit" -xJf .gpukit/kit.tar.xz || exit 1
  echo "$stamp" >"$kit/KIT_SHA256"
fi
echo "kit needs $(cat "$kit/GLIBC_NEEDED"); this machine has $(ldd --version | head -1)"
# cuBLAS from the toolkit, else from PyTorch's CUDA wheels.
cublas="$(find /usr/local/cuda/lib64/ /usr/local/cuda/lib/ /usr/local/cuda*/ \
  "$(python3 -c 'import site; print(site.getsitepackages()[0])')" -name 'libcublas.so.13' 2>/dev/null | head -1)"
[ -n "$cublas" ] || { echo "libcublas.so.13 not found on this machine"; exit 1; }
cublas_dir="$(dirname "$cublas")"
export LD_LIBRARY_PATH="$kit/lib:$cublas_dir:${LD_LIBRARY_PATH:-}"
export ATTNLAB_SHARED_DIR="$kit/shared" ATTNLAB_SOURCE_DIR="$PWD" ATTNLAB_BIN="$kit/bin/attnlab"
export QT_QPA_PLATFORM=offscreen
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
status=0

if [ "$part" = tests ] || [ "$part" = all ]; then
  "$kit/bin/test_cuda_host" 2>&1 | tail -3 | tee "$out/host_tests.log" || status=1
  "$kit/bin/test_cuda_gpu" --durations yes 2>&1 | tee "$out/gpu_tests.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
if [ "$part" = sanitize ] || [ "$part" = all ]; then
  san=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  "$san" --tool memcheck --error-exitcode 1 "$kit/bin/test_cuda_gpu" "[attention],[ops],[layout],[gemm]" \
    2>&1 | tail -20 | tee "$out/memcheck.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  "$san" --tool racecheck --error-exitcode 1 "$kit/bin/test_cuda_gpu" "[attention]" 2>&1 | tail -20 | tee "$out/racecheck.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
if [ "$part" = bench ] || [ "$part" = all ]; then
  bash bench/gpu/run_gpu_bench.sh "$kit/bin" 2>&1 | tee "$out/bench.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
exit $status
