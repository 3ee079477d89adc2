// Row-wise kernels: norms (forward and backward) and the fused softmax cross-entropy.
// One block per row; parameter gradients are reduced by a separate column kernel (row slices
// summed in shared memory, one atomic add per column per slice).
#include "core/cuda/check.h"
#include "core/cuda/ops.h"
#include "core/cuda/plan.h"
#include "core/cuda/reduce.cuh"

namespace attnlab::cuda {
namespace {

__global__ void rmsnorm_fwd_kernel(const float* x, const float* w, int C, float eps, float* y, float* rstd) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const float* xr = x + row * C;
  float ss = 0;
  for (int c = threadIdx.x; c < C; c += blockDim.x) ss += xr[c] * xr[c];
  const float r = rsqrtf(block_sum(ss, scratch) / C + eps);
  if (threadIdx.x == 0) rstd[row] = r;
  for (int c = threadIdx.x; c < C; c += blockDim.x) y[row * C + c] = xr[c] * r * w[c];
}

__global__ void rmsnorm_bwd_kernel(const float* dy, const float* x, const float* w, const float* rstd,
                                   int C, float* dx) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const float* xr = x + row * C;
  const float* gr = dy + row * C;
  float dot = 0;
  for (int c = threadIdx.x; c < C; c += blockDim.x) dot += gr[c] * w[c] * xr[c];
  dot = block_sum(dot, scratch);
  const float r = rstd[row];
  const float k = r * r * dot / C;
  for (int c = threadIdx.x; c < C; c += blockDim.x) dx[row * C + c] = r * (gr[c] * w[c] - xr[c] * k);
}

// Parameter gradients as column sums over rows: dw[c] += sum_rows dy*xhat with xhat = x*rstd
// (rmsnorm) or (x-mean)*rstd (layernorm, mean != nullptr); db[c] += sum_rows dy (db != nullptr).
// With x == nullptr only db is formed (a Linear bias). Block = 32 columns x 8 row lanes; each
// block reduces its slice of rows in shared memory and adds one partial per column to the
// output (atomics: the order of those few additions may vary between runs).
constexpr int kColTile = 32, kRowLanes = 8;
__global__ void column_grad_kernel(const float* dy, const float* x, const float* mean, const float* rstd, int64_t N,
                                   int C, float* dw, float* db) {
  __shared__ float sw[kRowLanes][kColTile], sb[kRowLanes][kColTile];
  const int c = blockIdx.x * kColTile + threadIdx.x;
  float aw = 0.0f, ab = 0.0f;
  if (c < C)
    for (int64_t i = blockIdx.y * kRowLanes + threadIdx.y; i < N; i += int64_t(gridDim.y) * kRowLanes) {
      const float g = dy[i * C + c];
      ab += g;
      if (x) aw += g * (x[i * C + c] - (mean ? mean[i] : 0.0f)) * rstd[i];
    }
  sw[threadIdx.y][threadIdx.x] = aw;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    for (int r = 1; r < kRowLanes; ++r) aw += sw[r][threadIdx.x], ab += sb[r][threadIdx.x];
    if (dw) atomicAdd(&dw[c], aw);
    if (db) atomicAdd(&db[c], ab);
  }
}

__global__ void layernorm_fwd_kernel(const float* x, const float* w, const float* b, int C, float eps,
                                     float* y, float* mean, float* rstd) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const float* xr = x + row * C;
  float s = 0;
  for (int c = threadIdx.x; c < C; c += blockDim.x) s += xr[c];
  const float mu = block_sum(s, scratch) / C;
  float v = 0;
  for (int c = threadIdx.x; c < C; c += blockDim.x) v += (xr[c] - mu) * (xr[c] - mu);
  const float r = rsqrtf(block_sum(v, scratch) / C + eps);
  if (threadIdx.x == 0) {
    mean[row] = mu;
    rstd[row] = r;
  }
  for (int c = threadIdx.x; c < C; c += blockDim.x) y[row * C + c] = (xr[c] - mu) * r * w[c] + b[c];
}

__global__ void layernorm_bwd_kernel(const float* dy, const float* x, const float* w, const float* mean,
                                     const float* rstd, int C, float* dx) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const float* xr = x + row * C;
  const float* gr = dy + row * C;
  const float mu = mean[row], r = rstd[row];
  float sg = 0, sgx = 0;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    const float g = gr[c] * w[c];
    sg += g;
    sgx += g * (xr[c] - mu) * r;
  }
  sg = block_sum(sg, scratch) / C;
  sgx = block_sum(sgx, scratch) / C;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    const float xh = (xr[c] - mu) * r;
    dx[row * C + c] = r * (gr[c] * w[c] - sg - xh * sgx);
  }
}

__global__ void softmax_xent_kernel(const float* logits, const int* targets, int V, float grad_scale,
                                    float* losses, float* dlogits) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const float* z = logits + row * V;
  float* dz = dlogits + row * V;
  const int y = targets[row];
  if (y < 0) {  // ignored position: uniform across the block, so no barrier is skipped unevenly
    for (int c = threadIdx.x; c < V; c += blockDim.x) dz[c] = 0.0f;
    if (threadIdx.x == 0) losses[row] = 0.0f;
    return;
  }
  float mx = -INFINITY;
  for (int c = threadIdx.x; c < V; c += blockDim.x) mx = fmaxf(mx, z[c]);
  mx = block_max(mx, scratch);
  float s = 0;
  for (int c = threadIdx.x; c < V; c += blockDim.x) s += expf(z[c] - mx);
  s = block_sum(s, scratch);
  const float zy = z[y];  // read before dz (which may alias z) is written
  __syncthreads();
  if (threadIdx.x == 0) losses[row] = logf(s) + mx - zy;
  const float inv = 1.0f / s;
  for (int c = threadIdx.x; c < V; c += blockDim.x)
    dz[c] = (expf(z[c] - mx) * inv - (c == y ? 1.0f : 0.0f)) * grad_scale;
}

}  // namespace

static void launch_column_grad(const float* dy, const float* x, const float* mean, const float* rstd, int64_t N, int C,
                        float* dw, float* db, cudaStream_t s) {
  const ColumnPlan p = plan_columns(N, C);
  column_grad_kernel<<<dim3(p.grid_x, p.grid_y), dim3(kColTile, kRowLanes), 0, s>>>(dy, x, mean, rstd, N, C, dw, db);
  ATTNLAB_CUDA_CHECK_LAUNCH("column_grad_kernel");
}

void rmsnorm_forward(const float* x, const float* w, int64_t N, int C, float eps, float* y, float* rstd,
                     cudaStream_t s) {
  const RowPlan p = plan_rows(N, C);
  rmsnorm_fwd_kernel<<<p.grid, p.block, 0, s>>>(x, w, C, eps, y, rstd);
  ATTNLAB_CUDA_CHECK_LAUNCH("rmsnorm_fwd_kernel");
}

void rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd, int64_t N,
                      int C, float* dx, float* dw, cudaStream_t s) {
  const RowPlan p = plan_rows(N, C);
  rmsnorm_bwd_kernel<<<p.grid, p.block, 0, s>>>(dy, x, w, rstd, C, dx);
  ATTNLAB_CUDA_CHECK_LAUNCH("rmsnorm_bwd_kernel");
  launch_column_grad(dy, x, nullptr, rstd, N, C, dw, nullptr, s);
}

void layernorm_forward(const float* x, const float* w, const float* b, int64_t N, int C, float eps,
                       float* y, float* mean, float* rstd, cudaStream_t s) {
  const RowPlan p = plan_rows(N, C);
  layernorm_fwd_kernel<<<p.grid, p.block, 0, s>>>(x, w, b, C, eps, y, mean, rstd);
  ATTNLAB_CUDA_CHECK_LAUNCH("layernorm_fwd_kernel");
}

void layernorm_backward(const float* dy, const float* x, const float* w, const float* mean,
                        const float* rstd, int64_t N, int C, float* dx, float* dw, float* db,
                        cudaStream_t s) {
  const RowPlan p = plan_rows(N, C);
  layernorm_bwd_kernel<<<p.grid, p.block, 0, s>>>(dy, x, w, mean, rstd, C, dx);
  ATTNLAB_CUDA_CHECK_LAUNCH("layernorm_bwd_kernel");
  launch_column_grad(dy, x, mean, rstd, N, C, dw, db, s);
}

void bias_backward(const float* dy, int64_t N, int C, float* db, cudaStream_t s) {
  launch_column_grad(dy, nullptr, nullptr, nullptr, N, C, nullptr, db, s);
}

void softmax_cross_entropy(const float* logits, const int* targets, int64_t N, int V, float grad_scale,
                           float* losses, float* dlogits, cudaStream_t s) {
  const RowPlan p = plan_rows(N, V);
  softmax_xent_kernel<<<p.grid, p.block, 0, s>>>(logits, targets, V, grad_scale, losses, dlogits);
  ATTNLAB_CUDA_CHECK_LAUNCH("softmax_xent_kernel");
}

}  // namespace attnlab::cuda
