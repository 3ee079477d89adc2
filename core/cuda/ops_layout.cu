// Data movement of the training step: residual adds, embeddings, head split/merge.
#include "core/cuda/check.h"
#include "core/cuda/ops.h"
#include "core/cuda/plan.h"

namespace attnlab::cuda {
namespace {

constexpr int kBlock = 256;
#define GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

__global__ void add_kernel(const float* a, const float* b, int64_t n, float* out) {
  GRID_STRIDE(i, n) out[i] = a[i] + b[i];
}
__global__ void add_inplace_kernel(float* y, const float* x, int64_t n) {
  GRID_STRIDE(i, n) y[i] += x[i];
}
__global__ void embedding_fwd_kernel(const int* tokens, const float* wte, const float* wpe, int T, int C,
                                     int64_t n, float* out) {
  GRID_STRIDE(i, n) {
    const int64_t bt = i / C;
    const int c = int(i % C), t = int(bt % T);
    out[i] = wte[(int64_t)tokens[bt] * C + c] + (wpe ? wpe[(int64_t)t * C + c] : 0.0f);
  }
}
__global__ void embedding_bwd_wte_kernel(const int* tokens, const float* dout, int C, int64_t n, float* dwte) {
  GRID_STRIDE(i, n) {
    const int64_t bt = i / C;
    atomicAdd(&dwte[(int64_t)tokens[bt] * C + i % C], dout[i]);
  }
}
__global__ void embedding_bwd_wpe_kernel(const float* dout, int B, int T, int C, float* dwpe) {
  GRID_STRIDE(i, (int64_t)T * C) {
    float s = 0.0f;
    for (int b = 0; b < B; ++b) s += dout[(int64_t)b * T * C + i];
    dwpe[i] += s;
  }
}
// One thread per element of the packed [B,T,(Hq+2Hkv)*Dh] tensor; `back` runs the inverse.
__global__ void qkv_kernel(float* qkv, int B, int T, int Hq, int Hkv, int Dh, float* q, float* k, float* v,
                           bool back) {
  const int W = (Hq + 2 * Hkv) * Dh;
  GRID_STRIDE(i, (int64_t)B * T * W) {
    const int64_t bt = i / W;
    const int col = int(i % W), b = int(bt / T), t = int(bt % T);
    int head = col / Dh;
    const int d = col % Dh;
    float* dst;
    if (head < Hq) {
      dst = q + (((int64_t)b * Hq + head) * T + t) * Dh + d;
    } else if ((head -= Hq) < Hkv) {
      dst = k + (((int64_t)b * Hkv + head) * T + t) * Dh + d;
    } else {
      head -= Hkv;
      dst = v + (((int64_t)b * Hkv + head) * T + t) * Dh + d;
    }
    if (back) qkv[i] = *dst;
    else *dst = qkv[i];
  }
}
__global__ void merge_kernel(float* heads, int B, int H, int T, int Dh, float* rows, bool back) {
  const int C = H * Dh;
  GRID_STRIDE(i, (int64_t)B * T * C) {
    const int64_t bt = i / C;
    const int col = int(i % C), b = int(bt / T), t = int(bt % T);
    float* src = heads + (((int64_t)b * H + col / Dh) * T + t) * Dh + col % Dh;
    if (back) *src = rows[i];
    else rows[i] = *src;
  }
}

}  // namespace

void add(const float* a, const float* b, int64_t n, float* out, cudaStream_t s) {
  add_kernel<<<elementwise_grid(n), kBlock, 0, s>>>(a, b, n, out);
  ATTNLAB_CUDA_CHECK_LAUNCH("add_kernel");
}
void add_inplace(float* y, const float* x, int64_t n, cudaStream_t s) {
  add_inplace_kernel<<<elementwise_grid(n), kBlock, 0, s>>>(y, x, n);
  ATTNLAB_CUDA_CHECK_LAUNCH("add_inplace_kernel");
}
void embedding_forward(const int* tokens, const float* wte, const float* wpe, int B, int T, int C, float* out,
                       cudaStream_t s) {
  const int64_t n = int64_t(B) * T * C;
  embedding_fwd_kernel<<<elementwise_grid(n), kBlock, 0, s>>>(tokens, wte, wpe, T, C, n, out);
  ATTNLAB_CUDA_CHECK_LAUNCH("embedding_fwd_kernel");
}
void embedding_backward(const int* tokens, const float* dout, int B, int T, int C, float* dwte, float* dwpe,
                        cudaStream_t s) {
  const int64_t n = int64_t(B) * T * C;
  embedding_bwd_wte_kernel<<<elementwise_grid(n), kBlock, 0, s>>>(tokens, dout, C, n, dwte);
  ATTNLAB_CUDA_CHECK_LAUNCH("embedding_bwd_wte_kernel");
  if (dwpe) {
    embedding_bwd_wpe_kernel<<<elementwise_grid(int64_t(T) * C), kBlock, 0, s>>>(dout, B, T, C, dwpe);
    ATTNLAB_CUDA_CHECK_LAUNCH("embedding_bwd_wpe_kernel");
  }
}
void split_qkv(const float* qkv, int B, int T, int Hq, int Hkv, int Dh, float* q, float* k, float* v,
               cudaStream_t s) {
  const int64_t n = int64_t(B) * T * (Hq + 2 * Hkv) * Dh;
  qkv_kernel<<<elementwise_grid(n), kBlock, 0, s>>>(const_cast<float*>(qkv), B, T, Hq, Hkv, Dh, q, k, v, false);
  ATTNLAB_CUDA_CHECK_LAUNCH("qkv_kernel");
}
void split_qkv_backward(const float* dq, const float* dk, const float* dv, int B, int T, int Hq, int Hkv, int Dh,
                        float* dqkv, cudaStream_t s) {
  const int64_t n = int64_t(B) * T * (Hq + 2 * Hkv) * Dh;
  qkv_kernel<<<elementwise_grid(n), kBlock, 0, s>>>(dqkv, B, T, Hq, Hkv, Dh, const_cast<float*>(dq),
                                                     const_cast<float*>(dk), const_cast<float*>(dv), true);
  ATTNLAB_CUDA_CHECK_LAUNCH("qkv_kernel (backward)");
}
void merge_heads(const float* x, int B, int H, int T, int Dh, float* out, cudaStream_t s) {
  const int64_t n = int64_t(B) * T * H * Dh;
  merge_kernel<<<elementwise_grid(n), kBlock, 0, s>>>(const_cast<float*>(x), B, H, T, Dh, out, false);
  ATTNLAB_CUDA_CHECK_LAUNCH("merge_kernel");
}
void merge_heads_backward(const float* dout, int B, int H, int T, int Dh, float* dx, cudaStream_t s) {
  const int64_t n = int64_t(B) * T * H * Dh;
  merge_kernel<<<elementwise_grid(n), kBlock, 0, s>>>(dx, B, H, T, Dh, const_cast<float*>(dout), true);
  ATTNLAB_CUDA_CHECK_LAUNCH("merge_kernel (backward)");
}

}  // namespace attnlab::cuda
