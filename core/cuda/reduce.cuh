#pragma once
// Warp and block reductions shared by the kernels.
#include <cuda_runtime.h>

#include "core/cuda/bitonic.h"

namespace attnlab::cuda {

// Lane i ends with the i-th largest of the warp's 32 values.
__device__ __forceinline__ float warp_sort_desc(float v) {
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int k = 2; k <= 32; k <<= 1)
#pragma unroll
    for (int j = k >> 1; j > 0; j >>= 1) {
      const float o = __shfl_xor_sync(0xffffffffu, v, j);
      v = bitonic_sort_keeps_max(lane, j, k) ? fmaxf(v, o) : fminf(v, o);
    }
  return v;
}
// top (lane i: i-th largest so far) absorbs a sorted tile: keeps the 32 largest of both, sorted.
__device__ __forceinline__ float warp_top32_merge(float top, float tile_sorted) {
  const int lane = threadIdx.x & 31;
  float v = fmaxf(top, __shfl_sync(0xffffffffu, tile_sorted, 31 - lane));  // bitonic (V-shaped)
#pragma unroll
  for (int j = 16; j > 0; j >>= 1) {
    const float o = __shfl_xor_sync(0xffffffffu, v, j);
    v = bitonic_merge_keeps_max(lane, j) ? fmaxf(v, o) : fminf(v, o);
  }
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets it.
// `scratch` holds 32 floats; the call synchronizes, so it may be reused right after.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < nwarps ? scratch[lane] : 0.0f;
  return warp_sum(v);
}
__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < nwarps ? scratch[lane] : -INFINITY;
  return warp_max(v);
}

}  // namespace attnlab::cuda
