// The fused statistics pass and tile recomputation. The statistics kernel repeats the forward's
// tiling with the row normalizers (lse) already known, so every weight A[t,j] is exact when it
// is formed; it is folded into per-row sums (registers) and per-column sums (shared memory,
// then one atomic per column per tile) and never stored.
#include <vector>

#include "core/cuda/attention.h"
#include "core/cuda/attention_common.cuh"
#include "core/cuda/device_buffer.h"

namespace attnlab::cuda {
namespace {

constexpr int R = kRowsPerWarp;

template <int NI>
__global__ void __launch_bounds__(kThreads) attn_stats_kernel(AttnParams a, const float* lse, const int* tokens,
                                                             StatsPointers o) {
  extern __shared__ float smem[];
  __shared__ float sCol[kTile];
  const int Dh = a.Dh, ldk = Dh + 1;
  float* sQ = smem;             // [kTile][Dh], pre-scaled
  float* sK = sQ + kTile * Dh;  // [kTile][Dh+1]
  const int qt = gridDim.x - 1 - blockIdx.x;
  const int h = blockIdx.y, b = blockIdx.z, hk = h / (a.Hq / a.Hkv);
  const int64_t qbase = ((int64_t)b * a.Hq + h) * a.T, kbase = ((int64_t)b * a.Hkv + hk) * a.T;
  const float* K = a.k + kbase * Dh;
  const int* x = tokens ? tokens + (int64_t)b * a.T : nullptr;
  const int q0 = qt * kTile, q1 = min(q0 + kTile, a.T);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const float slope = head_slope(a, h);

  load_tile(sQ, Dh, a.q + qbase * Dh, q0, a.T, Dh, a.scale);
  float L[R], ent[R], prev[R], ind[R], dup[R], mx[R], top[R];
  int xt[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int t = q0 + warp * R + r;
    L[r] = t < a.T ? lse[qbase + t] : 0.0f;
    xt[r] = (x && t < a.T) ? x[t] : -1;
    ent[r] = prev[r] = ind[r] = dup[r] = mx[r] = top[r] = 0.0f;
  }

  for (int k0 = 0; k0 < q1; k0 += kTile) {
    if (!tile_has_visible(q0, q1, k0, min(k0 + kTile, a.T), a.window, a.sinks)) continue;
    __syncthreads();  // previous tile consumed and its column sums flushed
    load_tile(sK, ldk, K, k0, a.T, Dh);
    if (threadIdx.x < kTile) sCol[threadIdx.x] = 0.0f;
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
    const int xj = (x && j < a.T) ? x[j] : -2;
    const int xjm1 = (x && j >= 1 && j < a.T) ? x[j - 1] : -2;
    float col = 0.0f;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int t = q0 + warp * R + r;
      const bool vis = t < a.T && key_visible(t, j, a.window, a.sinks);
      s[r] -= slope * float(t - j);
      // Top-32 of the row: warp-uniform per r (every lane joins, invisible keys bring 0).
      top[r] = warp_top32_merge(top[r], warp_sort_desc(vis ? expf(s[r] - L[r]) : 0.0f));
      if (!vis) continue;
      const float logp = s[r] - L[r];
      const float p = expf(logp);
      col += p;
      if (p > 0.0f) ent[r] -= p * logp;
      mx[r] = fmaxf(mx[r], p);
      if (j == t - 1) prev[r] = p;
      if (j < t) {
        if (xj == xt[r]) dup[r] += p;
        if (xjm1 == xt[r]) ind[r] += p;
      }
    }
    atomicAdd(&sCol[lane], col);
    __syncthreads();
    if (threadIdx.x < kTile && k0 + threadIdx.x < a.T && sCol[threadIdx.x] != 0.0f)
      atomicAdd(&o.col_mass[qbase + k0 + threadIdx.x], sCol[threadIdx.x]);
  }
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int t = q0 + warp * R + r;
    if (t >= a.T) continue;
    const float e = warp_sum(ent[r]), pv = warp_sum(prev[r]), in = warp_sum(ind[r]), du = warp_sum(dup[r]);
    const float m = warp_max(mx[r]);
    // Inclusive prefix sums over the sorted top-32: lane i holds the top-(i+1) mass.
    float cum = top[r];
#pragma unroll
    for (int step = 1; step < 32; step <<= 1) {
      const float u = __shfl_up_sync(0xffffffffu, cum, step);
      if (lane >= step) cum += u;
    }
    const int below = __popc(__ballot_sync(0xffffffffu, cum <= kCoverageP));
#pragma unroll
    for (int i = 0; i < kTopKBudgets; ++i)
      if (lane == (1 << i) - 1) o.topk_mass[(qbase + t) * kTopKBudgets + i] = cum;
    if (lane == 0) {
      o.cover[qbase + t] = float(min(below + 1, kCoverageCensored));
      o.entropy[qbase + t] = e;
      o.prev_token[qbase + t] = pv;
      o.induction[qbase + t] = in;
      o.duplicate[qbase + t] = du;
      o.row_max[qbase + t] = m;
    }
  }
}

// One warp per query row of the tile: the row's logsumexp over all visible keys.
__global__ void tile_lse_kernel(AttnParams a, int b, int h, int t0, int t1, float* lse_rows) {
  const int row = (blockIdx.x * blockDim.x + threadIdx.x) >> 5, lane = threadIdx.x & 31;
  const int t = t0 + row;
  if (t >= t1) return;  // warp-uniform
  const int hk = h / (a.Hq / a.Hkv);
  const float* qt = a.q + (((int64_t)b * a.Hq + h) * a.T + t) * a.Dh;
  const float* K = a.k + ((int64_t)b * a.Hkv + hk) * a.T * a.Dh;
  float m = -INFINITY, l = 0.0f;
  for (int j = lane; j <= t; j += 32) {
    if (!key_visible(t, j, a.window, a.sinks)) continue;
    float sc = 0.0f;
    for (int c = 0; c < a.Dh; ++c) sc += qt[c] * a.scale * K[(int64_t)j * a.Dh + c];
    sc -= head_slope(a, h) * float(t - j);
    const float mn = fmaxf(m, sc);
    l = l * expf(m - mn) + expf(sc - mn);
    m = mn;
  }
  const float M = warp_max(m);
  l = m == -INFINITY ? 0.0f : l * expf(m - M);
  const float Lsum = warp_sum(l);
  if (lane == 0) lse_rows[row] = M + logf(Lsum);
}

// One thread per tile entry. lse_rows[i] is the normalizer of query t0 + i.
__global__ void tile_kernel(AttnParams a, TileRequest r, const float* lse_rows, float* out) {
  const int w = r.j1 - r.j0;
  const int64_t n = (int64_t)(r.t1 - r.t0) * w;
  const int64_t idx = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (idx >= n) return;
  const int t = r.t0 + int(idx / w), j = r.j0 + int(idx % w);
  float p = 0.0f;
  if (key_visible(t, j, a.window, a.sinks)) {
    const int hk = r.h / (a.Hq / a.Hkv);
    const float* qt = a.q + (((int64_t)r.b * a.Hq + r.h) * a.T + t) * a.Dh;
    const float* kj = a.k + (((int64_t)r.b * a.Hkv + hk) * a.T + j) * a.Dh;
    float sc = 0.0f;
    for (int c = 0; c < a.Dh; ++c) sc += qt[c] * a.scale * kj[c];
    sc -= head_slope(a, r.h) * float(t - j);
    p = expf(sc - lse_rows[t - r.t0]);
  }
  out[idx] = p;
}

}  // namespace

void attention_statistics(const AttnDims& d, const float* q, const float* k, const float* lse, const int* tokens,
                          const StatsPointers& out, cudaStream_t s) {
  const LaunchPlan p = plan_attention(AttnKernel::statistics, d);
  if (!out.col_mass || !out.entropy || !out.prev_token || !out.induction || !out.duplicate || !out.row_max ||
      !out.topk_mass || !out.cover)
    throw Error("attention_statistics: every output buffer must be given");
  const AttnParams a = make_params(d, q, k, nullptr);
  ATTNLAB_CUDA_CHECK(cudaMemsetAsync(out.col_mass, 0, sizeof(float) * size_t(d.B) * d.Hq * d.T, s));
  ATTNLAB_DISPATCH_NI(p.dim_chunks, {
    prepare_smem(attn_stats_kernel<NI>, p.smem_bytes);
    attn_stats_kernel<NI><<<dim3(p.grid_x, p.grid_y, p.grid_z), p.block, p.smem_bytes, s>>>(a, lse, tokens, out);
  });
  ATTNLAB_CUDA_CHECK_LAUNCH("attn_stats_kernel");
}

void attention_forward_with_stats(const AttnDims& d, const float* q, const float* k, const float* v,
                                  const int* tokens, float* out, float* lse, StreamStats& stats, cudaStream_t s) {
  const int64_t n = int64_t(d.B) * d.Hq * d.T;
  flash_attention_forward(d, q, k, v, out, lse, s);
  DeviceBuffer<float> col(n), ent(n), prev(n), ind(n), dup(n), mx(n), topk(n * kTopKBudgets), cover(n);
  attention_statistics(d, q, k, lse, tokens,
                       {col.get(), ent.get(), prev.get(), ind.get(), dup.get(), mx.get(), topk.get(), cover.get()}, s);
  ATTNLAB_CUDA_CHECK(cudaStreamSynchronize(s));
  stats.col_mass = col.to_host();
  stats.entropy = ent.to_host();
  stats.prev_token = prev.to_host();
  stats.induction = ind.to_host();
  stats.duplicate = dup.to_host();
  stats.row_max = mx.to_host();
  stats.topk_mass = topk.to_host();
  stats.cover = cover.to_host();
}

void attention_tile(const AttnDims& d, const float* q, const float* k, const float* lse, const TileRequest& r,
                    float* tile_out, cudaStream_t s) {
  validate(r, d);
  const AttnParams a = make_params(d, q, k, nullptr);
  const int rows = r.t1 - r.t0;
  DeviceBuffer<float> own;
  const float* lse_rows = nullptr;
  if (lse) {
    lse_rows = lse + ((int64_t)r.b * d.Hq + r.h) * d.T + r.t0;
  } else {
    own = DeviceBuffer<float>(rows);
    const int threads = 256, per_block = threads / 32;
    tile_lse_kernel<<<(rows + per_block - 1) / per_block, threads, 0, s>>>(a, r.b, r.h, r.t0, r.t1, own.get());
    ATTNLAB_CUDA_CHECK_LAUNCH("tile_lse_kernel");
    lse_rows = own.get();
  }
  const int64_t n = int64_t(rows) * (r.j1 - r.j0);
  tile_kernel<<<int((n + 255) / 256), 256, 0, s>>>(a, r, lse_rows, tile_out);
  ATTNLAB_CUDA_CHECK_LAUNCH("tile_kernel");
  if (own.size()) ATTNLAB_CUDA_CHECK(cudaStreamSynchronize(s));  // before `own` is freed
}

}  // namespace attnlab::cuda
