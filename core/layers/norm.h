#pragma once
// LayerNorm and RMSNorm over the last dimension C of x [N, C]. The forward keeps the
// per-row statistics backward needs (mean and reciprocal std; RMSNorm keeps only rstd).
namespace attnlab {

void layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* w,
                       const float* b, int N, int C, float eps);
// dx is overwritten; dw, db accumulate.
void layernorm_backward(float* dx, float* dw, float* db, const float* dy, const float* x,
                        const float* w, const float* mean, const float* rstd, int N, int C);

void rmsnorm_forward(float* y, float* rstd, const float* x, const float* w, int N, int C,
                     float eps);
void rmsnorm_backward(float* dx, float* dw, const float* dy, const float* x, const float* w,
                      const float* rstd, int N, int C);

}  // namespace attnlab
