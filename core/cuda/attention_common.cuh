#pragma once
// Pieces shared by the attention kernels: parameters, tile loads, the kernel-instance switch.
#include <cuda_runtime.h>

#include "core/cuda/check.h"
#include "core/cuda/mask.h"
#include "core/cuda/plan.h"
#include "core/cuda/reduce.cuh"

namespace attnlab::cuda {

struct AttnParams {
  const float* q;
  const float* k;
  const float* v;
  int B, Hq, Hkv, T, Dh, window, sinks;
  float scale;
  bool alibi;
};

inline AttnParams make_params(const AttnDims& d, const float* q, const float* k, const float* v) {
  return AttnParams{q, k, v, d.B, d.Hq, d.Hkv, d.T, d.Dh, d.window, d.sinks, d.effective_scale(), d.alibi};
}

// The ALiBi slope of query head h, 0 without ALiBi: kernels subtract slope * (t - j) from
// every score, so one code path serves both.
__device__ __forceinline__ float head_slope(const AttnParams& a, int h) {
  return a.alibi ? alibi_slope(h, a.Hq) : 0.0f;
}

// Copies rows [r0, r0 + kTile) of src [T, Dh] into dst with row stride ld, times `mul`;
// rows past T become 0. Called by the whole block.
__device__ __forceinline__ void load_tile(float* dst, int ld, const float* src, int r0, int T, int Dh,
                                          float mul = 1.0f) {
  for (int i = threadIdx.x; i < kTile * Dh; i += blockDim.x) {
    const int r = i / Dh, c = i - r * Dh;
    dst[r * ld + c] = r0 + r < T ? src[(int64_t)(r0 + r) * Dh + c] * mul : 0.0f;
  }
}

// Opting in to more than 48 KB of dynamic shared memory must happen per kernel, before launch.
template <typename Kernel>
void prepare_smem(Kernel kernel, int64_t bytes) {
  if (bytes > 48 * 1024)
    ATTNLAB_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
}

}  // namespace attnlab::cuda

// Calls BODY with the compile-time constant NI (dims per lane: 1, 2 or 4) the plan chose.
#define ATTNLAB_DISPATCH_NI(chunks, ...)                \
  switch (chunks) {                                     \
    case 1: { constexpr int NI = 1; __VA_ARGS__; break; } \
    case 2: { constexpr int NI = 2; __VA_ARGS__; break; } \
    default: { constexpr int NI = 4; __VA_ARGS__; break; } \
  }
