#pragma once
// Fused causal softmax attention on the GPU (flash-style: tiles of 32 queries x 32 keys, online
// softmax, no T x T buffer), with grouped-query heads, a sliding window and sink keys
// (mask.h), its backward, and the fused statistics pass of the analysis engine.
// All pointers are device pointers; shapes and layouts as in plan.h (AttnDims).
#include <cuda_runtime.h>

#include "core/cuda/plan.h"
#include "core/cuda/stats.h"

namespace attnlab::cuda {

// out [B,Hq,T,Dh]; lse [B,Hq,T] = logsumexp of each row's scaled scores (kept for backward
// and for the statistics pass).
void flash_attention_forward(const AttnDims& d, const float* q, const float* k, const float* v, float* out,
                             float* lse, cudaStream_t s = 0);

// Overwrites dq [B,Hq,T,Dh] and dk, dv [B,Hkv,T,Dh]. delta [B,Hq,T] is scratch
// (rowsum(dout * out)). Needs the forward's out and lse. Deterministic: no atomics.
void flash_attention_backward(const AttnDims& d, const float* q, const float* k, const float* v,
                              const float* out, const float* dout, const float* lse, float* delta, float* dq,
                              float* dk, float* dv, cudaStream_t s = 0);

// Device buffers, each [B,Hq,T], for the statistics pass (see StreamStats for their meaning).
struct StatsPointers {
  float* col_mass = nullptr;
  float* entropy = nullptr;
  float* prev_token = nullptr;
  float* induction = nullptr;
  float* duplicate = nullptr;
  float* row_max = nullptr;
  float* topk_mass = nullptr;  // [B,Hq,T,kTopKBudgets]
  float* cover = nullptr;
};

// Second pass over the scores with the forward's lse: streams every metric of StreamStats per
// head without writing attention weights. tokens [B,T] (device) or nullptr. col_mass is
// zeroed here and accumulated with atomics (order of float additions may vary run to run).
void attention_statistics(const AttnDims& d, const float* q, const float* k, const float* lse,
                          const int* tokens, const StatsPointers& out, cudaStream_t s = 0);

// Host convenience: forward (out, lse on device) plus statistics, downloaded into `stats`.
void attention_forward_with_stats(const AttnDims& d, const float* q, const float* k, const float* v,
                                  const int* tokens, float* out, float* lse, StreamStats& stats,
                                  cudaStream_t s = 0);

// Recomputes one tile of one head's attention map into tile_out [(t1-t0) x (j1-j0)] (device,
// row-major; invisible entries are 0). lse [B,Hq,T] from a forward, or nullptr to recompute
// the rows' normalizers here (cost O((t1-t0) * T * Dh)).
void attention_tile(const AttnDims& d, const float* q, const float* k, const float* lse, const TileRequest& r,
                    float* tile_out, cudaStream_t s = 0);

}  // namespace attnlab::cuda
