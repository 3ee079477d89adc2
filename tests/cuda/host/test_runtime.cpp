// Runtime detection and device selection must behave on machines with no GPU or driver.
#include <catch2/catch.hpp>

#include "core/cuda/device_buffer.h"
#include "core/cuda/runtime.h"
#include "core/cuda/select.h"

using namespace attnlab;
using namespace attnlab::cuda;

TEST_CASE("cuda_available answers without crashing and explains a no", "[cuda][runtime]") {
  const bool ok = cuda_available();
  CHECK(cuda_available() == ok);  // stable
  if (ok) {
    CHECK(cuda_unavailable_reason().empty());
    CHECK_NOTHROW(require_cuda("test"));
    CHECK(resolve_device("cuda") == Device::cuda);
    WARN("GPU present: " << device_description());
  } else {
    CHECK_FALSE(cuda_unavailable_reason().empty());
    CHECK_THROWS_WITH(require_cuda("analyze"), Catch::Contains("analyze needs a CUDA GPU"));
    CHECK_THROWS_WITH(resolve_device("cuda"), Catch::Contains("--device cuda needs a CUDA GPU") &&
                                                  Catch::Contains("use --device cpu"));
    CHECK_THROWS_AS(device_description(), Error);
    // Allocation fails as an Error naming the call, not as a crash.
    CHECK_THROWS_WITH(DeviceBuffer<float>(16), Catch::Contains("cudaMalloc"));
  }
}

TEST_CASE("device names", "[cuda][runtime]") {
  CHECK(resolve_device("cpu") == Device::cpu);
  CHECK_THROWS_WITH(resolve_device("tpu"), Catch::Contains("unknown device 'tpu'"));
}

TEST_CASE("an empty device buffer needs no GPU", "[cuda][runtime]") {
  DeviceBuffer<float> b;
  CHECK(b.size() == 0);
  DeviceBuffer<float> z(0);
  CHECK(z.to_host().empty());
  CHECK_THROWS_WITH(z.upload(std::vector<float>(3)), Catch::Contains("3 elements for a buffer of 0"));
}
