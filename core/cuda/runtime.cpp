#include "core/cuda/runtime.h"

#include <cuda_runtime.h>

#include <cstdio>

#include "core/cuda/check.h"
#include "core/cuda/cublas_library.h"
#include "core/tensor/error.h"

namespace attnlab::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  // Clear the sticky "last error" so one failure is reported once.
  cudaGetLastError();
  throw Error(std::string("CUDA error in ") + call + ": " + cudaGetErrorName(err) + " (" +
              cudaGetErrorString(err) + ") at " + file + ":" + std::to_string(line));
}

[[noreturn]] void throw_cublas_error(cublasStatus_t st, const char* call, const char* file, int line) {
  throw Error(std::string("cuBLAS error in ") + call + ": " + cublas().status_name(st) + " (" +
              cublas().status_string(st) + ") at " + file + ":" + std::to_string(line));
}

namespace {
// Asked once: the answer cannot change within a process.
struct Probe {
  bool ok = false;
  std::string reason;
  Probe() {
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      cudaGetLastError();
      reason = std::string("no usable CUDA driver or device (cudaGetDeviceCount: ") +
               cudaGetErrorName(err) + ", " + cudaGetErrorString(err) + ")";
      return;
    }
    if (n == 0) {
      reason = "no CUDA device found";
      return;
    }
    ok = true;
  }
};
const Probe& probe() {
  static const Probe p;
  return p;
}
}  // namespace

bool cuda_available() { return probe().ok; }
std::string cuda_unavailable_reason() { return probe().reason; }

std::string device_description(int device) {
  require_cuda("device_description");
  cudaDeviceProp prop{};
  ATTNLAB_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  int drv = 0, rt = 0;
  cudaDriverGetVersion(&drv);
  cudaRuntimeGetVersion(&rt);
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.1f GiB, driver %d.%d, runtime %d.%d)", prop.name,
                prop.major, prop.minor, double(prop.totalGlobalMem) / (1 << 30), drv / 1000,
                (drv % 1000) / 10, rt / 1000, (rt % 1000) / 10);
  return buf;
}

void require_cuda(const std::string& what) {
  if (!cuda_available())
    throw Error(what + " needs a CUDA GPU, but " + cuda_unavailable_reason() +
                "; use --device cpu");
}

}  // namespace attnlab::cuda
