// Element-wise kernels: activations, rotary embedding, AdamW, bias, scaling. Grid-stride loops.
#include "core/cuda/check.h"
#include "core/cuda/ops.h"
#include "core/cuda/plan.h"
#include "core/cuda/reduce.cuh"
#include "core/tensor/error.h"

#include <cmath>
#include <string>

namespace attnlab::cuda {
namespace {

constexpr int kBlock = 256;
constexpr float kSqrt2OverPi = 0.7978845608028654f;

#define GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

__device__ float gelu_f(float x, bool tanh_approx) {
  if (tanh_approx) return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
  return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}
__device__ float gelu_grad_f(float x, bool tanh_approx) {
  if (tanh_approx) {
    const float u = kSqrt2OverPi * (x + 0.044715f * x * x * x);
    const float th = tanhf(u);
    return 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * x * x);
  }
  return 0.5f * (1.0f + erff(x * 0.70710678118654752f)) + x * expf(-0.5f * x * x) * 0.3989422804014327f;
}

__global__ void gelu_fwd_kernel(const float* x, int64_t n, bool tanh_approx, float* y) {
  GRID_STRIDE(i, n) y[i] = gelu_f(x[i], tanh_approx);
}
__global__ void gelu_bwd_kernel(const float* dy, const float* x, int64_t n, bool tanh_approx, float* dx) {
  GRID_STRIDE(i, n) dx[i] = dy[i] * gelu_grad_f(x[i], tanh_approx);
}
__global__ void swiglu_fwd_kernel(const float* gate, const float* up, int64_t n, float* y) {
  GRID_STRIDE(i, n) {
    const float g = gate[i];
    y[i] = g / (1.0f + expf(-g)) * up[i];
  }
}
__global__ void swiglu_bwd_kernel(const float* dy, const float* gate, const float* up, int64_t n,
                                  float* dgate, float* dup) {
  GRID_STRIDE(i, n) {
    const float g = gate[i], sg = 1.0f / (1.0f + expf(-g)), u = up[i];  // read before writes (aliasing)
    dup[i] = dy[i] * g * sg;
    dgate[i] = dy[i] * u * sg * (1.0f + g * (1.0f - sg));
  }
}

// One thread per rotating pair; rows are [B*H*T] of Dh.
__global__ void rope_kernel(float* x, int64_t rows, int T, int Dh, int rot_dims, double log_theta,
                            bool interleaved, float sign, int pos_offset) {
  const int half = rot_dims / 2;
  GRID_STRIDE(idx, rows * half) {
    const int64_t row = idx / half;
    const int i = int(idx % half);
    const int t = int(row % T) + pos_offset;
    // The angle t * freq in double and reduced mod 2 pi: in float, t = 16384 would already
    // round the angle by ~1e-3 rad.
    const double freq = exp(-2.0 * i / rot_dims * log_theta);
    const double ang = remainder(double(sign) * t * freq, 6.283185307179586);
    float sn, cs;
    sincosf(float(ang), &sn, &cs);
    float* r = x + row * Dh;
    const int a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
    const float x0 = r[a], x1 = r[b];
    r[a] = x0 * cs - x1 * sn;
    r[b] = x0 * sn + x1 * cs;
  }
}

__global__ void adamw_kernel(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1,
                             float beta2, float eps, float wd, float bc1, float bc2) {
  GRID_STRIDE(i, n) {
    const float gi = g[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * (1.0f - lr * wd) - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
  }
}

__global__ void sum_squares_kernel(const float* x, int64_t n, float* out) {
  __shared__ float scratch[32];
  float s = 0;
  GRID_STRIDE(i, n) s += x[i] * x[i];
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) atomicAdd(out, s);
}
__global__ void scale_kernel(float* x, int64_t n, float a) {
  GRID_STRIDE(i, n) x[i] *= a;
}
__global__ void add_bias_kernel(float* y, const float* bias, int64_t N, int C) {
  GRID_STRIDE(i, N * C) y[i] += bias[i % C];
}
}  // namespace

void gelu_forward(const float* x, int64_t n, bool tanh_approx, float* y, cudaStream_t s) {
  gelu_fwd_kernel<<<elementwise_grid(n, kBlock), kBlock, 0, s>>>(x, n, tanh_approx, y);
  ATTNLAB_CUDA_CHECK_LAUNCH("gelu_fwd_kernel");
}
void gelu_backward(const float* dy, const float* x, int64_t n, bool tanh_approx, float* dx, cudaStream_t s) {
  gelu_bwd_kernel<<<elementwise_grid(n, kBlock), kBlock, 0, s>>>(dy, x, n, tanh_approx, dx);
  ATTNLAB_CUDA_CHECK_LAUNCH("gelu_bwd_kernel");
}
void swiglu_forward(const float* gate, const float* up, int64_t n, float* y, cudaStream_t s) {
  swiglu_fwd_kernel<<<elementwise_grid(n, kBlock), kBlock, 0, s>>>(gate, up, n, y);
  ATTNLAB_CUDA_CHECK_LAUNCH("swiglu_fwd_kernel");
}
void swiglu_backward(const float* dy, const float* gate, const float* up, int64_t n, float* dgate,
                     float* dup, cudaStream_t s) {
  swiglu_bwd_kernel<<<elementwise_grid(n, kBlock), kBlock, 0, s>>>(dy, gate, up, n, dgate, dup);
  ATTNLAB_CUDA_CHECK_LAUNCH("swiglu_bwd_kernel");
}

void rope_apply(float* x, int B, int H, int T, int Dh, int rot_dims, float theta, bool interleaved,
                bool inverse, int pos_offset, cudaStream_t s) {
  if (rot_dims < 0 || rot_dims > Dh || rot_dims % 2)
    throw Error("rope: rotary dims " + std::to_string(rot_dims) + " must be even and within head dim " +
                std::to_string(Dh));
  if (rot_dims == 0) return;
  const int64_t rows = int64_t(B) * H * T;
  rope_kernel<<<elementwise_grid(rows * (rot_dims / 2), kBlock), kBlock, 0, s>>>(
      x, rows, T, Dh, rot_dims, std::log(double(theta)), interleaved, inverse ? -1.0f : 1.0f, pos_offset);
  ATTNLAB_CUDA_CHECK_LAUNCH("rope_kernel");
}

void adamw_step(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                float eps, float weight_decay, int64_t t, cudaStream_t s) {
  if (t < 1) throw Error("adamw_step: step t must be >= 1 (got " + std::to_string(t) + ")");
  const float bc1 = float(1.0 - std::pow(double(beta1), double(t)));
  const float bc2 = float(1.0 - std::pow(double(beta2), double(t)));
  adamw_kernel<<<elementwise_grid(n, kBlock), kBlock, 0, s>>>(p, g, m, v, n, lr, beta1, beta2, eps,
                                                               weight_decay, bc1, bc2);
  ATTNLAB_CUDA_CHECK_LAUNCH("adamw_kernel");
}

void sum_squares_accumulate(const float* x, int64_t n, float* out, cudaStream_t s) {
  const int g = elementwise_grid(n, kBlock);
  sum_squares_kernel<<<g < 1024 ? g : 1024, kBlock, 0, s>>>(x, n, out);
  ATTNLAB_CUDA_CHECK_LAUNCH("sum_squares_kernel");
}
void scale_inplace(float* x, int64_t n, float a, cudaStream_t s) {
  scale_kernel<<<elementwise_grid(n, kBlock), kBlock, 0, s>>>(x, n, a);
  ATTNLAB_CUDA_CHECK_LAUNCH("scale_kernel");
}
void add_bias(float* y, const float* bias, int64_t N, int C, cudaStream_t s) {
  add_bias_kernel<<<elementwise_grid(N * C, kBlock), kBlock, 0, s>>>(y, bias, N, C);
  ATTNLAB_CUDA_CHECK_LAUNCH("add_bias_kernel");
}

}  // namespace attnlab::cuda
