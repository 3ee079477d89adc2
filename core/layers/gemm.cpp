#include "core/layers/gemm.h"

#include <Eigen/Dense>
#include <cstdlib>
#include <cstring>
#include <strings.h>

#include "core/tensor/error.h"

#if defined(ATTNLAB_OPENBLAS_PATH)
#include <dlfcn.h>
#endif

namespace attnlab {
namespace {

// cblas_sgemm's ABI: its enums are plain ints (CblasRowMajor 101, CblasNoTrans 111, CblasTrans
// 112).
using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*,
                            int, float, float*, int);

struct OpenBlas {
  CblasSgemm sgemm = nullptr;
  std::string name, core;
};

#if defined(ATTNLAB_OPENBLAS_PATH)
OpenBlas load_openblas() {
  // Loaded rather than linked: with RTLD_DEEPBIND, a process that already holds another OpenBLAS
  // (PyTorch's pthread build, in the Python module) cannot have this copy's internal calls bound
  // to that one; and a machine without it still runs, on Eigen.
  void* lib = dlopen(ATTNLAB_OPENBLAS_PATH, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (!lib) return {};
  OpenBlas ob;
  ob.sgemm = reinterpret_cast<CblasSgemm>(dlsym(lib, "cblas_sgemm"));
  if (!ob.sgemm) return {};
  auto config = reinterpret_cast<const char* (*)()>(dlsym(lib, "openblas_get_config"));
  auto core = reinterpret_cast<const char* (*)()>(dlsym(lib, "openblas_get_corename"));
  std::string version = config ? config() : "OpenBLAS";
  // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY ..." -> "OpenBLAS 0.3.21"
  if (auto sp = version.find(' '); sp != std::string::npos)
    version = version.substr(0, version.find(' ', sp + 1));
  ob.core = core ? core() : "";
  ob.name = version + " (" + ob.core + " kernels, OpenMP)";
  return ob;
}
#else
OpenBlas load_openblas() { return {}; }
#endif

const OpenBlas& openblas() {
  static const OpenBlas lib = load_openblas();
  return lib;
}

// OpenBLAS kernels that use AVX-512 (OpenBLAS's core names).
bool avx512_core(const std::string& core) {
  for (const char* c : {"skylakex", "cooperlake", "sapphirerapids"})
    if (strcasecmp(core.c_str(), c) == 0) return true;
  return false;
}

// Chosen by measurement on the 2-core development machine (AVX-512). OpenBLAS with its own
// kernel choice (Cooperlake) beats Eigen at any thread count (190 vs 135 GFLOP/s on one idle
// core). But that machine's environment pins OpenBLAS to its AVX2 Haswell kernels
// (OPENBLAS_CORETYPE=Haswell), and then Eigen built with AVX-512 wins: 1024^3 SGEMM 258-269
// against 197-203 GFLOP/s on 2 threads, model training 3.14x PyTorch against 2.84x, the forward
// 1.61x against 1.43x (bench/bench_train.sh, 5 pairs each). So: OpenBLAS when it loads, unless
// its kernels are narrower than Eigen's; ATTNLAB_GEMM=openblas|eigen overrides.
GemmBackend choose_backend() {
  const char* env = std::getenv("ATTNLAB_GEMM");
  if (env && std::strcmp(env, "eigen") == 0) return GemmBackend::eigen;
  if (env && *env && std::strcmp(env, "openblas") != 0)
    throw Error(std::string("ATTNLAB_GEMM=") + env + ": expected openblas or eigen");
  if (!openblas().sgemm) return GemmBackend::eigen;
#if defined(__AVX512F__)
  const bool openblas_asked = env && std::strcmp(env, "openblas") == 0;
  if (!openblas_asked && !avx512_core(openblas().core)) return GemmBackend::eigen;
#endif
  return GemmBackend::openblas;
}

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CStrided = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
using Strided = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;

void eigen_sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc) {
  Strided Cm(C, M, N, Eigen::OuterStride<>(ldc));
  if (beta == 0.0f)
    Cm.setZero();  // BLAS semantics: C's old contents (even NaN) do not matter when beta is 0
  else if (beta != 1.0f)
    Cm *= beta;
  if (K == 0 || alpha == 0.0f) return;
  CStrided Am(A, ta ? K : M, ta ? M : K, Eigen::OuterStride<>(lda));
  CStrided Bm(B, tb ? N : K, tb ? K : N, Eigen::OuterStride<>(ldb));
  if (!ta && !tb) Cm.noalias() += alpha * Am * Bm;
  if (!ta && tb) Cm.noalias() += alpha * Am * Bm.transpose();
  if (ta && !tb) Cm.noalias() += alpha * Am.transpose() * Bm;
  if (ta && tb) Cm.noalias() += alpha * Am.transpose() * Bm.transpose();
}

void check_args(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B,
                int ldb, const float* C, int ldc) {
  auto fail = [&](const std::string& why) {
    throw Error("sgemm(M=" + std::to_string(M) + ", N=" + std::to_string(N) +
                ", K=" + std::to_string(K) + "): " + why);
  };
  if (M < 0 || N < 0 || K < 0) fail("negative dimension");
  if (lda < std::max(1, ta ? M : K)) fail("lda " + std::to_string(lda) + " below A's row length");
  if (ldb < std::max(1, tb ? K : N)) fail("ldb " + std::to_string(ldb) + " below B's row length");
  if (ldc < std::max(1, N)) fail("ldc " + std::to_string(ldc) + " below C's row length");
  if (M > 0 && N > 0 && !C) fail("C is null");
  if (M > 0 && N > 0 && K > 0 && (!A || !B)) fail("A or B is null");
}

}  // namespace

GemmBackend gemm_backend() {
  static const GemmBackend backend = choose_backend();
  return backend;
}

bool gemm_backend_available(GemmBackend backend) {
  return backend == GemmBackend::eigen || openblas().sgemm != nullptr;
}

std::string gemm_backend_name() {
  if (gemm_backend() == GemmBackend::openblas) return openblas().name;
  return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
         std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION);
}

void sgemm_on(GemmBackend backend, bool ta, bool tb, int M, int N, int K, float alpha,
              const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  check_args(ta, tb, M, N, K, A, lda, B, ldb, C, ldc);
  if (M == 0 || N == 0) return;
  if (backend == GemmBackend::eigen)
    return eigen_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  if (!openblas().sgemm)
    throw Error("sgemm: OpenBLAS (libopenblas0-openmp) is not available in this build");
  constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
  openblas().sgemm(kRowMajor, ta ? kTrans : kNoTrans, tb ? kTrans : kNoTrans, M, N, K, alpha, A,
                   lda, B, ldb, beta, C, ldc);
}

void sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
  sgemm_on(gemm_backend(), ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace attnlab
