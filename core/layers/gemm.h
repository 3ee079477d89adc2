#pragma once
// Row-major single-precision GEMM, the one entry point for the model's matrix products:
//   C = alpha * op(A) * op(B) + beta * C,  op(A) [M, K], op(B) [K, N], C [M, N].
// A is stored [M, K] (lda >= K), or [K, M] (lda >= M) when transposed; likewise B.
//
// Two backends give the same products up to float rounding:
// - OpenBLAS, the OpenMP build (libopenblas0-openmp), loaded at the first call. It shares the
//   project's OpenMP threads: it uses omp_get_max_threads() outside a parallel region and one
//   thread inside one, so it never oversubscribes the cores.
// - Eigen, when OpenBLAS is not installed, when OpenBLAS runs AVX2 kernels where Eigen was built
//   with AVX-512 (an environment pinning OPENBLAS_CORETYPE; measured in gemm.cpp), or when
//   ATTNLAB_GEMM=eigen is set (ATTNLAB_GEMM=openblas forces OpenBLAS).
// Each is deterministic for a given thread count: the work splits over rows and columns of C,
// never over K, so every element sums its K products in a fixed order.
#include <string>

namespace attnlab {

enum class GemmBackend { openblas, eigen };

// The backend sgemm() uses in this process (decided once, at the first call).
GemmBackend gemm_backend();
// For logs and benchmarks, e.g. "OpenBLAS 0.3.21 (SkylakeX kernels, OpenMP)" or "Eigen 3.4".
std::string gemm_backend_name();
// Whether the given backend can run here (Eigen always can).
bool gemm_backend_available(GemmBackend backend);

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc);
// The same on a chosen backend (tests and benchmarks compare them); Error if it is unavailable.
void sgemm_on(GemmBackend backend, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc);

}  // namespace attnlab
