#pragma once
// Naive CPU versions of every CUDA kernel, written for obviousness (double accumulation,
// materialized attention rows). The GPU tests compare the kernels against these; the CPU suite
// checks these against known answers and finite differences. Same conventions as ops.h:
// input grads are overwritten, parameter grads accumulated.
#include <cstdint>
#include <vector>

#include "core/cuda/plan.h"
#include "core/cuda/stats.h"

namespace attnlab::cuda::ref {

void rmsnorm_forward(const float* x, const float* w, int64_t N, int C, float eps, float* y, float* rstd);
void rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd, int64_t N,
                      int C, float* dx, float* dw);
void layernorm_forward(const float* x, const float* w, const float* b, int64_t N, int C, float eps,
                       float* y, float* mean, float* rstd);
void layernorm_backward(const float* dy, const float* x, const float* w, const float* mean,
                        const float* rstd, int64_t N, int C, float* dx, float* dw, float* db);
void gelu_forward(const float* x, int64_t n, bool tanh_approx, float* y);
void gelu_backward(const float* dy, const float* x, int64_t n, bool tanh_approx, float* dx);
void swiglu_forward(const float* gate, const float* up, int64_t n, float* y);
void swiglu_backward(const float* dy, const float* gate, const float* up, int64_t n, float* dgate, float* dup);
void rope_apply(float* x, int B, int H, int T, int Dh, int rot_dims, float theta, bool interleaved,
                bool inverse, int pos_offset = 0);
void softmax_cross_entropy(const float* logits, const int* targets, int64_t N, int V, float grad_scale,
                           float* losses, float* dlogits);
void adamw_step(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1,
                float beta2, float eps, float weight_decay, int64_t t);
// C[M,N] = alpha * op(A) op(B) + beta * C, row-major.
void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, const float* B,
          float beta, float* C);

// One attention row: the weights query t of head (b, h) gives keys 0..T-1 (0 where invisible).
void attention_row(const AttnDims& d, const float* q, const float* k, int b, int h, int t, double* row);
// out [B,Hq,T,Dh]; lse [B,Hq,T] = log sum_j exp(scale q.k_j) over visible j.
void attention_forward(const AttnDims& d, const float* q, const float* k, const float* v, float* out,
                       float* lse);
// dq [B,Hq,T,Dh], dk and dv [B,Hkv,T,Dh], all overwritten.
void attention_backward(const AttnDims& d, const float* q, const float* k, const float* v,
                        const float* dout, float* dq, float* dk, float* dv);
// Folds row t of head (b, h) (weights for keys 0..t) into s, which must be sized (resize) and
// start at zero; column sums accumulate. tokens [B, T] or nullptr. Used by the reference and
// by the GPU model's host path for attention variants without a kernel.
void row_statistics(const AttnDims& d, int b, int h, int t, const double* row, const int* tokens, StreamStats& s);
// tokens [B, T] or nullptr (induction and duplicate sums are then 0).
void attention_stats(const AttnDims& d, const float* q, const float* k, const int* tokens, StreamStats& s);
// out [(t1-t0) x (j1-j0)], row-major.
void attention_tile(const AttnDims& d, const float* q, const float* k, const TileRequest& r, float* out);

}  // namespace attnlab::cuda::ref
