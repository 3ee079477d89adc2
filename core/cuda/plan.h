#pragma once
// Host-side decisions of the CUDA backend, kept free of CUDA headers so the CPU test suite
// checks them without a GPU: shape validation, tiling and launch configurations, and the
// row-major to cuBLAS (column-major) GEMM argument mapping.
#include <cstdint>
#include <string>

namespace attnlab::cuda {

// Layout: q [B, Hq, T, Dh]; k, v [B, Hkv, T, Dh]; query head h reads kv head h / (Hq / Hkv)
// (grouped-query attention without repeating k and v). Scores are scale * q.k.
struct AttnDims {
  int B = 1, Hq = 1, Hkv = 1, T = 1, Dh = 1;
  int window = 0;  // sliding window in keys, 0 = full causal
  int sinks = 0;   // first keys always visible under a window
  float scale = 0.0f;  // 0 means 1/sqrt(Dh)
  bool alibi = false;  // ALiBi: score(t, j) = scale q.k - alibi_slope(h, Hq) (t - j) (mask.h)
  float effective_scale() const;
  int group() const { return Hq / Hkv; }
};

// Throws attnlab::Error naming the bad field (what the kernels cannot handle, e.g. Dh > 128).
void validate(const AttnDims& d);

// The tiling every attention kernel uses: a block of kWarps warps owns kTile rows (queries
// for forward/dQ/statistics, keys for dK/dV), kRowsPerWarp per warp; lane j of a warp owns key
// (or query) j of the current 32-wide tile and head dimensions lane, lane+32, ...
constexpr int kTile = 32;
constexpr int kWarps = 8;
constexpr int kRowsPerWarp = kTile / kWarps;
constexpr int kMaxHeadDim = 128;
constexpr int kThreads = kWarps * 32;

struct LaunchPlan {
  int grid_x = 1, grid_y = 1, grid_z = 1;
  int block = kThreads;
  int64_t smem_bytes = 0;
  int dim_chunks = 1;  // ceil(Dh / 32): template instance (1, 2 or 4)
  std::string describe() const;
};

enum class AttnKernel { forward, backward_dq, backward_dkv, statistics };
// grid x = row tiles, y = heads (query heads, or kv heads for dK/dV), z = batch.
LaunchPlan plan_attention(AttnKernel which, const AttnDims& d);

// Largest dynamic shared memory any plan may ask for (the sm_80 opt-in limit is 163 KB;
// sm_86/89 allow 99 KB; we stay below the smaller).
constexpr int64_t kMaxSmemBytes = 99 * 1024;

// One tile [t0, t1) x [j0, j1) of one head's attention map, recomputed for the GUI.
struct TileRequest {
  int b = 0, h = 0;
  int t0 = 0, t1 = 0, j0 = 0, j1 = 0;
};
void validate(const TileRequest& r, const AttnDims& d);

// Row-wise kernels (norms, softmax-cross-entropy): one block per row, threads stride columns.
struct RowPlan {
  int grid = 1, block = 256;
};
RowPlan plan_rows(int64_t rows, int64_t cols);
// Column reductions (parameter gradients of norms and biases): blocks of 32 columns x 8 row
// lanes; grid_y slices the rows so that about 1024 blocks share the work (each slice at least
// 64 rows), since a handful of column blocks alone would leave most of the GPU idle.
struct ColumnPlan {
  int grid_x = 1, grid_y = 1;
};
ColumnPlan plan_columns(int64_t rows, int64_t cols);
// Element-wise kernels: grid-stride loops, grid capped so huge tensors still launch.
int elementwise_grid(int64_t n, int block = 256);

// C[M,N] = alpha * op(A) op(B) + beta * C, all row-major, expressed as the column-major call
// cublasSgemm(trans_first, trans_second, m, n, k, alpha, first, ld_first, second, ld_second,
// beta, C, ldc) where first = B and second = A (C^T = op(B)^T op(A)^T).
struct CublasGemmArgs {
  bool trans_first = false, trans_second = false;
  int m = 0, n = 0, k = 0;
  int ld_first = 0, ld_second = 0, ldc = 0;
};
CublasGemmArgs rowmajor_gemm_args(bool trans_a, bool trans_b, int M, int N, int K);

// What cuBLAS would compute for those column-major arguments, done on the CPU: the test suite
// uses it to prove the mapping, independent of any GPU.
void colmajor_gemm_emulate(const CublasGemmArgs& g, float alpha, const float* first,
                           const float* second, float beta, float* C);

}  // namespace attnlab::cuda
