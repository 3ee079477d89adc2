// cuBLAS is opened on first use, not linked (core/cuda/cublas_library.h): the library the GPU
// backend was built against must open and have every function the backend calls. No GPU needed.
#include <catch2/catch.hpp>
#include <string>

#include "core/cuda/cublas_library.h"

TEST_CASE("cuBLAS opens on first use with every function the backend calls", "[cuda][host]") {
  const attnlab::cuda::CublasLibrary& c = attnlab::cuda::cublas();
  CHECK(c.create != nullptr);
  CHECK(c.destroy != nullptr);
  CHECK(c.set_stream != nullptr);
  CHECK(c.gemm_ex != nullptr);
  CHECK(c.gemm_strided_batched_ex != nullptr);
  REQUIRE(c.status_name != nullptr);
  REQUIRE(c.status_string != nullptr);
  CHECK(std::string(c.status_name(CUBLAS_STATUS_NOT_INITIALIZED)) == "CUBLAS_STATUS_NOT_INITIALIZED");
  CHECK(&attnlab::cuda::cublas() == &c);  // opened once
}
