#include "core/cuda/gemm.h"

#include "core/cuda/check.h"
#include "core/cuda/cublas_library.h"
#include "core/cuda/ops.h"
#include "core/cuda/plan.h"
#include "core/tensor/error.h"

namespace attnlab::cuda {

Blas::Blas(cudaStream_t stream, Precision p) : s_(stream), p_(p) {
  ATTNLAB_CUBLAS_CHECK(cublas().create(&h_));
  ATTNLAB_CUBLAS_CHECK(cublas().set_stream(h_, stream));
}
Blas::~Blas() {
  if (h_) cublas().destroy(h_);
}

namespace {
cublasComputeType_t compute_type(Precision p) {
  switch (p) {
    case Precision::tf32: return CUBLAS_COMPUTE_32F_FAST_TF32;
    case Precision::bf16: return CUBLAS_COMPUTE_32F_FAST_16BF;
    default: return CUBLAS_COMPUTE_32F;
  }
}
cublasOperation_t op(bool t) { return t ? CUBLAS_OP_T : CUBLAS_OP_N; }
}  // namespace

void gemm(const Blas& blas, bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
          const float* B, float beta, float* C) {
  const CublasGemmArgs g = rowmajor_gemm_args(trans_a, trans_b, M, N, K);
  ATTNLAB_CUBLAS_CHECK(cublas().gemm_ex(blas.handle(), op(g.trans_first), op(g.trans_second), g.m, g.n, g.k,
                                    &alpha, B, CUDA_R_32F, g.ld_first, A, CUDA_R_32F, g.ld_second, &beta, C,
                                    CUDA_R_32F, g.ldc, compute_type(blas.precision()), CUBLAS_GEMM_DEFAULT));
}

void gemm_strided_batched(const Blas& blas, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                          const float* A, int64_t stride_a, const float* B, int64_t stride_b, float beta,
                          float* C, int64_t stride_c, int batch) {
  if (batch <= 0) throw Error("gemm_strided_batched: batch must be positive");
  const CublasGemmArgs g = rowmajor_gemm_args(trans_a, trans_b, M, N, K);
  ATTNLAB_CUBLAS_CHECK(cublas().gemm_strided_batched_ex(
      blas.handle(), op(g.trans_first), op(g.trans_second), g.m, g.n, g.k, &alpha, B, CUDA_R_32F,
      g.ld_first, stride_b, A, CUDA_R_32F, g.ld_second, stride_a, &beta, C, CUDA_R_32F, g.ldc, stride_c,
      batch, compute_type(blas.precision()), CUBLAS_GEMM_DEFAULT));
}

void linear_forward(const Blas& blas, const float* x, const float* w, const float* b, int64_t N, int in,
                    int out, float* y) {
  if (N > (int64_t(1) << 31) - 1) throw Error("linear_forward: more than 2^31 rows");
  gemm(blas, false, true, int(N), out, in, 1.0f, x, w, 0.0f, y);
  if (b) add_bias(y, b, N, out, blas.stream());
}

void linear_backward(const Blas& blas, const float* dy, const float* x, const float* w, int64_t N, int in,
                     int out, float* dx, float* dw, float* db) {
  if (N > (int64_t(1) << 31) - 1) throw Error("linear_backward: more than 2^31 rows");
  if (dx) gemm(blas, false, false, int(N), in, out, 1.0f, dy, w, 0.0f, dx);
  gemm(blas, true, false, out, in, int(N), 1.0f, dy, x, 1.0f, dw);
  if (db) bias_backward(dy, N, out, db, blas.stream());
}

}  // namespace attnlab::cuda
