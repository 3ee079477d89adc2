#pragma once
// cuBLAS GEMMs in the row-major terms the rest of the code uses, and the Linear layer built on
// them. fp32 storage; `Precision` picks exact fp32 math, or tensor cores on inputs rounded to
// TF32 (10-bit mantissa) or bf16 (7-bit mantissa), always accumulating in fp32.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace attnlab::cuda {

enum class Precision { fp32, tf32, bf16 };

// Owns one cuBLAS handle bound to a stream.
class Blas {
 public:
  explicit Blas(cudaStream_t stream = 0, Precision p = Precision::fp32);
  ~Blas();
  Blas(const Blas&) = delete;
  Blas& operator=(const Blas&) = delete;
  cublasHandle_t handle() const { return h_; }
  Precision precision() const { return p_; }
  cudaStream_t stream() const { return s_; }

 private:
  cublasHandle_t h_ = nullptr;
  cudaStream_t s_ = 0;
  Precision p_;
};

// C[M,N] = alpha * op(A) op(B) + beta * C, row-major; op transposes when trans_* is set
// (A is [M,K], or [K,M] when trans_a; B is [K,N], or [N,K] when trans_b).
void gemm(const Blas& blas, bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
          const float* B, float beta, float* C);

// Batched over `batch` matrices at fixed strides (elements).
void gemm_strided_batched(const Blas& blas, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                          const float* A, int64_t stride_a, const float* B, int64_t stride_b, float beta,
                          float* C, int64_t stride_c, int batch);

// Linear layer, weights [out, in] as in PyTorch: y[N,out] = x W^T (+ b).
void linear_forward(const Blas& blas, const float* x, const float* w, const float* b, int64_t N, int in,
                    int out, float* y);
// dx[N,in] = dy W (overwritten; skipped when dx is null); dW += dy^T x; db += colsum(dy).
void linear_backward(const Blas& blas, const float* dy, const float* x, const float* w, int64_t N, int in,
                     int out, float* dx, float* dw, float* db);

}  // namespace attnlab::cuda
