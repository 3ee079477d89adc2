// sgemm on every available backend against a float64 product, its BLAS edge cases, bad
// arguments, and run-to-run bit identity (the determinism training relies on).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "core/layers/gemm.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"

using namespace attnlab;

namespace {

std::vector<GemmBackend> backends() {
  std::vector<GemmBackend> out;
  for (GemmBackend b : {GemmBackend::openblas, GemmBackend::eigen})
    if (gemm_backend_available(b)) out.push_back(b);
  return out;
}

std::vector<float> random_floats(Rng& rng, size_t n) {
  std::vector<float> v(n);
  for (float& x : v) x = float(rng.normal());
  return v;
}

// op(X)[i, k] for X stored row-major with leading dimension ld.
float at(const std::vector<float>& X, bool trans, int ld, int i, int k) {
  return trans ? X[size_t(k) * ld + i] : X[size_t(i) * ld + k];
}

}  // namespace

TEST_CASE("sgemm matches a float64 product on every backend", "[gemm]") {
  Rng rng(7);
  for (GemmBackend be : backends())
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (auto [M, N, K] : {std::tuple{1, 1, 1}, {5, 3, 7}, {33, 65, 17}, {130, 70, 300}}) {
          // Leading dimensions wider than the rows: the products must read only their part.
          const int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 5;
          const auto A = random_floats(rng, size_t(ta ? K : M) * lda);
          const auto B = random_floats(rng, size_t(tb ? N : K) * ldb);
          auto C = random_floats(rng, size_t(M) * ldc);
          const auto C0 = C;
          const float alpha = 0.75f, beta = -0.5f;
          sgemm_on(be, ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
          for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) {
              double ref = 0, mag = 0;
              for (int k = 0; k < K; ++k) {
                ref += double(at(A, ta, lda, i, k)) * at(B, tb, ldb, k, j);
                mag += std::fabs(double(at(A, ta, lda, i, k)) * at(B, tb, ldb, k, j));
              }
              ref = alpha * ref + beta * double(C0[size_t(i) * ldc + j]);
              const double tol = 1e-6 * (mag + std::fabs(double(C0[size_t(i) * ldc + j]))) + 1e-6;
              INFO("backend " << int(be) << " ta " << ta << " tb " << tb << " M " << M << " N " << N
                              << " K " << K);
              REQUIRE(std::fabs(C[size_t(i) * ldc + j] - ref) <= tol);
            }
          // Padding columns of C stay as they were.
          for (int i = 0; i < M; ++i)
            for (int j = N; j < ldc; ++j)
              REQUIRE(C[size_t(i) * ldc + j] == C0[size_t(i) * ldc + j]);
        }
}

TEST_CASE("sgemm's BLAS edge cases: beta = 0 ignores C, K = 0 scales C, empty C", "[gemm]") {
  for (GemmBackend be : backends()) {
    const std::vector<float> A = {1, 2, 3, 4}, B = {5, 6, 7, 8};
    std::vector<float> C(4, std::numeric_limits<float>::quiet_NaN());
    sgemm_on(be, false, false, 2, 2, 2, 1.0f, A.data(), 2, B.data(), 2, 0.0f, C.data(), 2);
    CHECK(C == std::vector<float>{19, 22, 43, 50});
    sgemm_on(be, false, false, 2, 2, 0, 1.0f, A.data(), 1, B.data(), 2, 2.0f, C.data(), 2);
    CHECK(C == std::vector<float>{38, 44, 86, 100});
    sgemm_on(be, false, false, 0, 2, 2, 1.0f, nullptr, 2, B.data(), 2, 0.0f, nullptr, 2);  // no-op
  }
}

TEST_CASE("sgemm rejects bad arguments with an Error", "[gemm]") {
  std::vector<float> A(16), B(16), C(16);
  CHECK_THROWS_AS(sgemm(false, false, -1, 2, 2, 1, A.data(), 2, B.data(), 2, 0, C.data(), 2),
                  Error);
  CHECK_THROWS_AS(sgemm(false, false, 2, 2, 3, 1, A.data(), 2, B.data(), 2, 0, C.data(), 2),
                  Error);  // lda < K
  CHECK_THROWS_AS(sgemm(true, false, 3, 2, 2, 1, A.data(), 2, B.data(), 2, 0, C.data(), 2),
                  Error);  // lda < M
  CHECK_THROWS_AS(sgemm(false, false, 2, 3, 2, 1, A.data(), 2, B.data(), 2, 0, C.data(), 3),
                  Error);  // ldb < N
  CHECK_THROWS_AS(sgemm(false, false, 2, 3, 2, 1, A.data(), 2, B.data(), 3, 0, C.data(), 2),
                  Error);  // ldc < N
  CHECK_THROWS_AS(sgemm(false, false, 2, 2, 2, 1, nullptr, 2, B.data(), 2, 0, C.data(), 2), Error);
  CHECK_THROWS_AS(sgemm(false, false, 2, 2, 2, 1, A.data(), 2, B.data(), 2, 0, nullptr, 2), Error);
  if (!gemm_backend_available(GemmBackend::openblas))
    CHECK_THROWS_AS(sgemm_on(GemmBackend::openblas, false, false, 1, 1, 1, 1, A.data(), 1, B.data(),
                             1, 0, C.data(), 1),
                    Error);
}

TEST_CASE("sgemm gives bit-identical results run to run", "[gemm]") {
  Rng rng(3);
  const int M = 300, N = 260, K = 520;
  const auto A = random_floats(rng, size_t(M) * K), B = random_floats(rng, size_t(K) * N);
  for (GemmBackend be : backends()) {
    std::vector<float> C1(size_t(M) * N), C2(size_t(M) * N);
    sgemm_on(be, false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 0.0f, C1.data(), N);
    sgemm_on(be, false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 0.0f, C2.data(), N);
    REQUIRE(std::memcmp(C1.data(), C2.data(), C1.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("sgemm names the backend in use", "[gemm]") {
  const std::string name = gemm_backend_name();
  CHECK((name.rfind("OpenBLAS", 0) == 0 || name.rfind("Eigen", 0) == 0));
  CHECK(gemm_backend_available(gemm_backend()));
}
