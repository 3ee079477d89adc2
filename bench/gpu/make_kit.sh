#!/usr/bin/env bash
# Packs what a session with a GPU needs to run the GPU checks on the device machine. That
# machine has CUDA 13 (nvcc, cuBLAS), PyTorch, cmake and ninja, but none of our Debian build
# dependencies (Qt, ICU, Eigen, toml++, ...) and cannot fetch them, so we build here and carry:
# the CUDA test, benchmark and CLI binaries (portable: no -march=native), the shared libraries
# they load beyond glibc and CUDA's own, stories260K and Tiny Shakespeare for the tests.
# Result: .gpukit/kit.tar.xz (git ignores it). Then, with the device tool:
#   run {command: "bash bench/gpu/run_kit.sh tests", carry: [".gpukit"]}   (see run_kit.sh)
#   bench/gpu/make_kit.sh [build-dir]   (default: build-kit)
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build-kit}"
bash scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DATTNLAB_NATIVE=OFF -DATTNLAB_GUI=OFF >/dev/null
ninja -C "$build" test_cuda_gpu test_cuda_host bench_gpu_gpt2 attnlab
shared="${ATTNLAB_SHARED_DIR:-../shared}"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/shared/models" "$stage/shared/corpora"
bins=("$build/tests/cuda/test_cuda_gpu" "$build/tests/cuda/test_cuda_host" "$build/experiments/attnlab"
      "$(find "$build" -name bench_gpu_gpt2 -type f -perm -u+x | head -1)")
cp "${bins[@]}" "$stage/bin/"
# The libraries ldd resolves, less glibc's (the device's own must serve: it is the loader's)
# and CUDA's runtime, cuBLAS and driver (the device's match its GPU driver).
for b in "${bins[@]}"; do ldd "$b"; done | awk '/=> \//{print $3}' | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so* | libm.so* | libpthread.so* | libdl.so* | librt.so* | ld-linux* | libcuda.so* | libcudart.so* | libcublas*) ;;
    *) cp -L "$lib" "$stage/lib/" ;;
  esac
done
cp -r "$shared/models/stories260K" "$stage/shared/models/"
cp -r "$shared/corpora/tinyshakespeare" "$stage/shared/corpora/"
# The newest glibc symbol the binaries need: the device's glibc must be at least this.
need=$(for f in "$stage"/bin/* "$stage"/lib/*; do objdump -T "$f" 2>/dev/null; done |
       grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
echo "$need" >"$stage/GLIBC_NEEDED"
mkdir -p .gpukit
tar -C "$stage" -cJf .gpukit/kit.tar.xz .
echo "wrote .gpukit/kit.tar.xz ($(du -h .gpukit/kit.tar.xz | cut -f1); needs $need or newer on the device)"
