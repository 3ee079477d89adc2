#pragma once
// Turns CUDA and cuBLAS status codes into attnlab::Error naming the call that failed, so a
// failed allocation or launch surfaces as a message rather than as garbage later.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

namespace attnlab::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t st, const char* call, const char* file, int line);

inline void check_cuda(cudaError_t err, const char* call, const char* file, int line) {
  if (err != cudaSuccess) throw_cuda_error(err, call, file, line);
}
inline void check_cublas(cublasStatus_t st, const char* call, const char* file, int line) {
  if (st != CUBLAS_STATUS_SUCCESS) throw_cublas_error(st, call, file, line);
}

}  // namespace attnlab::cuda

#define ATTNLAB_CUDA_CHECK(call) ::attnlab::cuda::check_cuda((call), #call, __FILE__, __LINE__)
#define ATTNLAB_CUBLAS_CHECK(call) ::attnlab::cuda::check_cublas((call), #call, __FILE__, __LINE__)
// After a kernel launch: reports bad launch configurations at the launch site.
#define ATTNLAB_CUDA_CHECK_LAUNCH(name) \
  ::attnlab::cuda::check_cuda(cudaGetLastError(), "launch " name, __FILE__, __LINE__)
