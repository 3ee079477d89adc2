#include "core/cuda/plan.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/tensor/error.h"

namespace attnlab::cuda {

float AttnDims::effective_scale() const {
  return scale != 0.0f ? scale : 1.0f / std::sqrt(float(Dh));
}

void validate(const AttnDims& d) {
  auto need = [](bool ok, const std::string& msg) {
    if (!ok) throw Error("cuda attention: " + msg);
  };
  need(d.B > 0 && d.Hq > 0 && d.Hkv > 0 && d.T > 0 && d.Dh > 0,
       "B, Hq, Hkv, T and Dh must be positive (got B=" + std::to_string(d.B) + " Hq=" +
           std::to_string(d.Hq) + " Hkv=" + std::to_string(d.Hkv) + " T=" + std::to_string(d.T) +
           " Dh=" + std::to_string(d.Dh) + ")");
  need(d.Hq % d.Hkv == 0, "query heads (" + std::to_string(d.Hq) +
                              ") must be a multiple of kv heads (" + std::to_string(d.Hkv) + ")");
  need(d.Dh <= kMaxHeadDim, "head dim " + std::to_string(d.Dh) + " exceeds the kernels' limit of " +
                                std::to_string(kMaxHeadDim));
  need(d.window >= 0, "window must be >= 0 (0 = full causal), got " + std::to_string(d.window));
  need(d.sinks >= 0, "sinks must be >= 0, got " + std::to_string(d.sinks));
  need(std::isfinite(d.scale), "scale must be finite");
  // Heads and batch are grid y and z (plan_attention), which CUDA caps at 65535.
  need(d.Hq <= 65535 && d.B <= 65535, "heads (" + std::to_string(d.Hq) + ") and batch (" +
                                          std::to_string(d.B) + ") must each be at most 65535 (grid y, z)");
  // Offsets are computed in 64 bits, but T and the per-head row count must fit int.
  need(int64_t(d.B) * d.Hq * d.T < (int64_t(1) << 31), "B * Hq * T must be below 2^31");
}

std::string LaunchPlan::describe() const {
  std::ostringstream s;
  s << "grid(" << grid_x << "," << grid_y << "," << grid_z << ") block " << block << " smem "
    << smem_bytes << " B, dims/lane " << dim_chunks;
  return s.str();
}

LaunchPlan plan_attention(AttnKernel which, const AttnDims& d) {
  validate(d);
  LaunchPlan p;
  p.grid_x = (d.T + kTile - 1) / kTile;
  p.grid_y = which == AttnKernel::backward_dkv ? d.Hkv : d.Hq;
  p.grid_z = d.B;
  p.block = kThreads;
  p.dim_chunks = d.Dh <= 32 ? 1 : d.Dh <= 64 ? 2 : 4;
  const int64_t row = d.Dh, padded = d.Dh + 1;  // padding keeps per-lane row reads conflict-free
  int64_t floats = 0;
  switch (which) {
    case AttnKernel::forward:
      floats = kTile * row + kTile * padded + kTile * row;  // Q, K (padded), V
      break;
    case AttnKernel::statistics:
      floats = kTile * row + kTile * padded;  // Q, K (padded); column sums are static
      break;
    case AttnKernel::backward_dq:
      floats = 2 * kTile * row + 2 * kTile * padded;  // Q, dO, K, V
      break;
    case AttnKernel::backward_dkv:
      floats = 2 * kTile * row + 2 * kTile * padded + 2 * kTile;  // K, V, Q, dO, lse, D
      break;
  }
  p.smem_bytes = floats * int64_t(sizeof(float));
  if (p.smem_bytes > kMaxSmemBytes)
    throw Error("cuda attention: plan needs " + std::to_string(p.smem_bytes) +
                " bytes of shared memory, above " + std::to_string(kMaxSmemBytes));
  return p;
}

void validate(const TileRequest& r, const AttnDims& d) {
  validate(d);
  auto need = [](bool ok, const std::string& msg) {
    if (!ok) throw Error("attention tile: " + msg);
  };
  need(r.b >= 0 && r.b < d.B, "batch index " + std::to_string(r.b) + " outside [0," +
                                  std::to_string(d.B) + ")");
  need(r.h >= 0 && r.h < d.Hq, "head " + std::to_string(r.h) + " outside [0," +
                                   std::to_string(d.Hq) + ")");
  need(0 <= r.t0 && r.t0 < r.t1 && r.t1 <= d.T,
       "query rows [" + std::to_string(r.t0) + "," + std::to_string(r.t1) +
           ") must be a non-empty range inside [0," + std::to_string(d.T) + ")");
  need(0 <= r.j0 && r.j0 < r.j1 && r.j1 <= d.T,
       "key columns [" + std::to_string(r.j0) + "," + std::to_string(r.j1) +
           ") must be a non-empty range inside [0," + std::to_string(d.T) + ")");
}

RowPlan plan_rows(int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0)
    throw Error("cuda row kernel: rows and cols must be positive (got " + std::to_string(rows) +
                " x " + std::to_string(cols) + ")");
  if (rows > (int64_t(1) << 31) - 1) throw Error("cuda row kernel: more than 2^31 rows");
  RowPlan p;
  p.grid = int(rows);
  // Enough threads to cover a row in a few strides, at least one warp, at most 1024.
  int64_t b = 32;
  while (b < cols && b < 1024) b *= 2;
  p.block = int(b);
  return p;
}

ColumnPlan plan_columns(int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0)
    throw Error("cuda column reduction: rows and cols must be positive (got " + std::to_string(rows) + " x " +
                std::to_string(cols) + ")");
  ColumnPlan p;
  const int64_t gx = (cols + 31) / 32;
  if (gx > (int64_t(1) << 31) - 1) throw Error("cuda column reduction: too many columns");
  p.grid_x = int(gx);
  const int64_t by_rows = (rows + 63) / 64;
  const int64_t by_target = std::max<int64_t>(1, 1024 / gx);
  p.grid_y = int(std::min<int64_t>({by_rows, by_target, 65535}));
  return p;
}

int elementwise_grid(int64_t n, int block) {
  if (n <= 0) return 1;
  int64_t g = (n + block - 1) / block;
  return int(g < 65535 * 16 ? g : 65535 * 16);
}

CublasGemmArgs rowmajor_gemm_args(bool trans_a, bool trans_b, int M, int N, int K) {
  if (M <= 0 || N <= 0 || K <= 0)
    throw Error("gemm: M, N, K must be positive (got " + std::to_string(M) + ", " +
                std::to_string(N) + ", " + std::to_string(K) + ")");
  CublasGemmArgs g;
  g.trans_first = trans_b;
  g.trans_second = trans_a;
  g.m = N;
  g.n = M;
  g.k = K;
  g.ld_first = trans_b ? K : N;   // row-major B is [K,N] or [N,K]
  g.ld_second = trans_a ? M : K;  // row-major A is [M,K] or [K,M]
  g.ldc = N;
  return g;
}

void colmajor_gemm_emulate(const CublasGemmArgs& g, float alpha, const float* first,
                           const float* second, float beta, float* C) {
  // Column-major: X(i,j) = X[i + j*ld]; op(first) is m x k, op(second) is k x n.
  for (int j = 0; j < g.n; ++j)
    for (int i = 0; i < g.m; ++i) {
      double acc = 0;
      for (int p = 0; p < g.k; ++p) {
        float a = g.trans_first ? first[p + int64_t(i) * g.ld_first] : first[i + int64_t(p) * g.ld_first];
        float b = g.trans_second ? second[j + int64_t(p) * g.ld_second]
                                 : second[p + int64_t(j) * g.ld_second];
        acc += double(a) * b;
      }
      float& c = C[i + int64_t(j) * g.ldc];
      c = float(alpha * acc + (beta == 0.0f ? 0.0 : double(beta) * c));
    }
}

}  // namespace attnlab::cuda
