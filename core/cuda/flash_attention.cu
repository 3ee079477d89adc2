// Flash-style causal attention, forward and backward, fp32 (see attention.h and plan.h for the
// tiling). Forward and dQ run one block per 32-query tile; dK/dV run one block per 32-key tile
// and loop over every query head of its kv group, so GQA needs no atomics.
#include "core/cuda/attention.h"
#include "core/cuda/attention_common.cuh"

namespace attnlab::cuda {
namespace {

constexpr int R = kRowsPerWarp;

template <int NI>
__global__ void __launch_bounds__(kThreads) flash_fwd_kernel(AttnParams a, float* out, float* lse) {
  extern __shared__ float smem[];
  const int Dh = a.Dh, ldk = Dh + 1;
  float* sQ = smem;               // [kTile][Dh], pre-scaled
  float* sK = sQ + kTile * Dh;    // [kTile][Dh+1]: lane j reads row j
  float* sV = sK + kTile * ldk;   // [kTile][Dh]
  const int qt = gridDim.x - 1 - blockIdx.x;  // longest rows first
  const int h = blockIdx.y, b = blockIdx.z, hk = h / (a.Hq / a.Hkv);
  const int64_t qbase = ((int64_t)b * a.Hq + h) * a.T, kbase = ((int64_t)b * a.Hkv + hk) * a.T;
  const float* K = a.k + kbase * Dh;
  const float* V = a.v + kbase * Dh;
  const int q0 = qt * kTile, q1 = min(q0 + kTile, a.T);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;

  load_tile(sQ, Dh, a.q + qbase * Dh, q0, a.T, Dh, a.scale);
  const float slope = head_slope(a, h);
  float m[R], l[R], acc[R][NI];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    m[r] = -INFINITY;
    l[r] = 0.0f;
#pragma unroll
    for (int i = 0; i < NI; ++i) acc[r][i] = 0.0f;
  }

  for (int k0 = 0; k0 < q1; k0 += kTile) {
    if (!tile_has_visible(q0, q1, k0, min(k0 + kTile, a.T), a.window, a.sinks)) continue;
    __syncthreads();  // the previous tile is consumed
    load_tile(sK, ldk, K, k0, a.T, Dh);
    load_tile(sV, Dh, V, k0, a.T, Dh);
    __syncthreads();
    float s[R];
#pragma unroll
    for (int r = 0; r < R; ++r) s[r] = 0.0f;
    for (int c = 0; c < Dh; ++c) {
      const float kc = sK[lane * ldk + c];
#pragma unroll
      for (int r = 0; r < R; ++r) s[r] += sQ[(warp * R + r) * Dh + c] * kc;
    }
    const int j = k0 + lane;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int t = q0 + warp * R + r;
      const bool vis = t < a.T && key_visible(t, j, a.window, a.sinks);
      const float sv = vis ? s[r] - slope * float(t - j) : -INFINITY;
      const float mx = warp_max(sv);
      if (mx == -INFINITY) continue;  // warp-uniform: this row sees nothing in this tile
      const float mnew = fmaxf(m[r], mx);
      const float corr = expf(m[r] - mnew);
      const float p = vis ? expf(sv - mnew) : 0.0f;
      l[r] = l[r] * corr + p;  // per-lane partial sum, reduced at the end
#pragma unroll
      for (int i = 0; i < NI; ++i) acc[r][i] *= corr;
      for (int jj = 0; jj < kTile; ++jj) {
        const float pj = __shfl_sync(0xffffffffu, p, jj);
#pragma unroll
        for (int i = 0; i < NI; ++i) {
          const int d = lane + 32 * i;
          if (d < Dh) acc[r][i] += pj * sV[jj * Dh + d];
        }
      }
      m[r] = mnew;
    }
  }
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int t = q0 + warp * R + r;
    if (t >= a.T) continue;
    const float L = warp_sum(l[r]);
    const float inv = 1.0f / L;
    float* o = out + (qbase + t) * Dh;
#pragma unroll
    for (int i = 0; i < NI; ++i) {
      const int d = lane + 32 * i;
      if (d < Dh) o[d] = acc[r][i] * inv;
    }
    if (lane == 0) lse[qbase + t] = m[r] + logf(L);
  }
}

template <int NI>
__global__ void __launch_bounds__(kThreads) flash_bwd_dq_kernel(AttnParams a, const float* out, const float* dout,
                                                               const float* lse, float* delta, float* dq) {
  extern __shared__ float smem[];
  const int Dh = a.Dh, ldk = Dh + 1;
  float* sQ = smem;               // [kTile][Dh], pre-scaled
  float* sO = sQ + kTile * Dh;    // dO [kTile][Dh]
  float* sK = sO + kTile * Dh;    // [kTile][Dh+1]
  float* sV = sK + kTile * ldk;   // [kTile][Dh+1]
  const int qt = gridDim.x - 1 - blockIdx.x;
  const int h = blockIdx.y, b = blockIdx.z, hk = h / (a.Hq / a.Hkv);
  const int64_t qbase = ((int64_t)b * a.Hq + h) * a.T, kbase = ((int64_t)b * a.Hkv + hk) * a.T;
  const float* K = a.k + kbase * Dh;
  const float* V = a.v + kbase * Dh;
  const int q0 = qt * kTile, q1 = min(q0 + kTile, a.T);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;

  load_tile(sQ, Dh, a.q + qbase * Dh, q0, a.T, Dh, a.scale);
  load_tile(sO, Dh, dout + qbase * Dh, q0, a.T, Dh);
  const float slope = head_slope(a, h);
  float D[R], L[R], acc[R][NI];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int t = q0 + warp * R + r;
    float part = 0.0f;
    if (t < a.T) {
#pragma unroll
      for (int i = 0; i < NI; ++i) {
        const int d = lane + 32 * i;
        if (d < Dh) part += dout[(qbase + t) * Dh + d] * out[(qbase + t) * Dh + d];
      }
    }
    D[r] = warp_sum(part);
    L[r] = t < a.T ? lse[qbase + t] : 0.0f;
    if (t < a.T && lane == 0) delta[qbase + t] = D[r];
#pragma unroll
    for (int i = 0; i < NI; ++i) acc[r][i] = 0.0f;
  }

  for (int k0 = 0; k0 < q1; k0 += kTile) {
    if (!tile_has_visible(q0, q1, k0, min(k0 + kTile, a.T), a.window, a.sinks)) continue;
    __syncthreads();
    load_tile(sK, ldk, K, k0, a.T, Dh);
    load_tile(sV, ldk, V, k0, a.T, Dh);
    __syncthreads();
    float s[R], dp[R];
#pragma unroll
    for (int r = 0; r < R; ++r) s[r] = dp[r] = 0.0f;
    for (int c = 0; c < Dh; ++c) {
      const float kc = sK[lane * ldk + c], vc = sV[lane * ldk + c];
#pragma unroll
      for (int r = 0; r < R; ++r) {
        s[r] += sQ[(warp * R + r) * Dh + c] * kc;
        dp[r] += sO[(warp * R + r) * Dh + c] * vc;
      }
    }
    const int j = k0 + lane;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int t = q0 + warp * R + r;
      const bool vis = t < a.T && key_visible(t, j, a.window, a.sinks);
      const float p = vis ? expf(s[r] - slope * float(t - j) - L[r]) : 0.0f;
      const float ds = p * (dp[r] - D[r]);
      for (int jj = 0; jj < kTile; ++jj) {
        const float dsj = __shfl_sync(0xffffffffu, ds, jj);
#pragma unroll
        for (int i = 0; i < NI; ++i) {
          const int d = lane + 32 * i;
          if (d < Dh) acc[r][i] += dsj * sK[jj * ldk + d];
        }
      }
    }
  }
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int t = q0 + warp * R + r;
    if (t >= a.T) continue;
#pragma unroll
    for (int i = 0; i < NI; ++i) {
      const int d = lane + 32 * i;
      if (d < Dh) dq[(qbase + t) * Dh + d] = acc[r][i] * a.scale;
    }
  }
}

template <int NI>
__global__ void __launch_bounds__(kThreads) flash_bwd_dkv_kernel(AttnParams a, const float* dout, const float* lse,
                                                                const float* delta, float* dk, float* dv) {
  extern __shared__ float smem[];
  const int Dh = a.Dh, ldq = Dh + 1;
  float* sK = smem;               // [kTile][Dh]: rows owned by warps, read as broadcasts
  float* sV = sK + kTile * Dh;    // [kTile][Dh]
  float* sQ = sV + kTile * Dh;    // [kTile][Dh+1], pre-scaled: lane i reads query i
  float* sO = sQ + kTile * ldq;   // dO [kTile][Dh+1]
  float* sL = sO + kTile * ldq;   // lse of the query tile
  float* sD = sL + kTile;         // delta of the query tile
  const int kt = blockIdx.x;      // early keys are seen by the most queries: start them first
  const int hk = blockIdx.y, b = blockIdx.z, group = a.Hq / a.Hkv;
  const int64_t kbase = ((int64_t)b * a.Hkv + hk) * a.T;
  const int k0 = kt * kTile, k1 = min(k0 + kTile, a.T);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;

  load_tile(sK, Dh, a.k + kbase * Dh, k0, a.T, Dh);
  load_tile(sV, Dh, a.v + kbase * Dh, k0, a.T, Dh);
  float gk[R][NI], gv[R][NI];
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int i = 0; i < NI; ++i) gk[r][i] = gv[r][i] = 0.0f;

  for (int g = 0; g < group; ++g) {
    const int h = hk * group + g;
    const float slope = head_slope(a, h);
    const int64_t qbase = ((int64_t)b * a.Hq + h) * a.T;
    for (int q0 = k0; q0 < a.T; q0 += kTile) {
      const int q1 = min(q0 + kTile, a.T);
      if (!tile_has_visible(q0, q1, k0, k1, a.window, a.sinks)) continue;
      __syncthreads();
      load_tile(sQ, ldq, a.q + qbase * Dh, q0, a.T, Dh, a.scale);
      load_tile(sO, ldq, dout + qbase * Dh, q0, a.T, Dh);
      if (threadIdx.x < kTile) {
        const int t = q0 + threadIdx.x;
        sL[threadIdx.x] = t < a.T ? lse[qbase + t] : 0.0f;
        sD[threadIdx.x] = t < a.T ? delta[qbase + t] : 0.0f;
      }
      __syncthreads();
      float s[R], dp[R];
#pragma unroll
      for (int r = 0; r < R; ++r) s[r] = dp[r] = 0.0f;
      for (int c = 0; c < Dh; ++c) {
        const float qc = sQ[lane * ldq + c], oc = sO[lane * ldq + c];
#pragma unroll
        for (int r = 0; r < R; ++r) {
          s[r] += qc * sK[(warp * R + r) * Dh + c];
          dp[r] += oc * sV[(warp * R + r) * Dh + c];
        }
      }
      const int t = q0 + lane;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const int j = k0 + warp * R + r;
        const bool vis = t < a.T && j < a.T && key_visible(t, j, a.window, a.sinks);
        const float p = vis ? expf(s[r] - slope * float(t - j) - sL[lane]) : 0.0f;
        const float ds = p * (dp[r] - sD[lane]);
        for (int ii = 0; ii < kTile; ++ii) {
          const float pi = __shfl_sync(0xffffffffu, p, ii);
          const float dsi = __shfl_sync(0xffffffffu, ds, ii);
#pragma unroll
          for (int i = 0; i < NI; ++i) {
            const int d = lane + 32 * i;
            if (d < Dh) {
              gv[r][i] += pi * sO[ii * ldq + d];
              gk[r][i] += dsi * sQ[ii * ldq + d];  // sQ carries the scale
            }
          }
        }
      }
    }
  }
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int j = k0 + warp * R + r;
    if (j >= a.T) continue;
#pragma unroll
    for (int i = 0; i < NI; ++i) {
      const int d = lane + 32 * i;
      if (d < Dh) {
        dk[(kbase + j) * Dh + d] = gk[r][i];
        dv[(kbase + j) * Dh + d] = gv[r][i];
      }
    }
  }
}

}  // namespace

void flash_attention_forward(const AttnDims& d, const float* q, const float* k, const float* v, float* out,
                             float* lse, cudaStream_t s) {
  const LaunchPlan p = plan_attention(AttnKernel::forward, d);
  const AttnParams a = make_params(d, q, k, v);
  const dim3 grid(p.grid_x, p.grid_y, p.grid_z);
  ATTNLAB_DISPATCH_NI(p.dim_chunks, {
    prepare_smem(flash_fwd_kernel<NI>, p.smem_bytes);
    flash_fwd_kernel<NI><<<grid, p.block, p.smem_bytes, s>>>(a, out, lse);
  });
  ATTNLAB_CUDA_CHECK_LAUNCH("flash_fwd_kernel");
}

void flash_attention_backward(const AttnDims& d, const float* q, const float* k, const float* v,
                              const float* out, const float* dout, const float* lse, float* delta, float* dq,
                              float* dk, float* dv, cudaStream_t s) {
  const LaunchPlan pq = plan_attention(AttnKernel::backward_dq, d);
  const LaunchPlan pkv = plan_attention(AttnKernel::backward_dkv, d);
  const AttnParams a = make_params(d, q, k, v);
  // dQ first: it also writes delta, which dK/dV read.
  ATTNLAB_DISPATCH_NI(pq.dim_chunks, {
    prepare_smem(flash_bwd_dq_kernel<NI>, pq.smem_bytes);
    flash_bwd_dq_kernel<NI><<<dim3(pq.grid_x, pq.grid_y, pq.grid_z), pq.block, pq.smem_bytes, s>>>(
        a, out, dout, lse, delta, dq);
  });
  ATTNLAB_CUDA_CHECK_LAUNCH("flash_bwd_dq_kernel");
  ATTNLAB_DISPATCH_NI(pkv.dim_chunks, {
    prepare_smem(flash_bwd_dkv_kernel<NI>, pkv.smem_bytes);
    flash_bwd_dkv_kernel<NI><<<dim3(pkv.grid_x, pkv.grid_y, pkv.grid_z), pkv.block, pkv.smem_bytes, s>>>(
        a, dout, lse, delta, dk, dv);
  });
  ATTNLAB_CUDA_CHECK_LAUNCH("flash_bwd_dkv_kernel");
}

}  // namespace attnlab::cuda
