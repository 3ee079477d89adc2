// Entry point of the GPU test binary: on a machine without a usable GPU it says so, lists the
// tests it did not run, and exits 77, which ctest reports as "Skipped" (SKIP_RETURN_CODE).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "core/cuda/runtime.h"

int main(int argc, char** argv) {
  using namespace attnlab::cuda;
  if (!cuda_available()) {
    std::printf("SKIPPED test_cuda_gpu: %s.\nThese GPU tests did NOT run (run `ctest -L gpu` on a GPU machine):\n",
                cuda_unavailable_reason().c_str());
    for (const auto& tc : Catch::getRegistryHub().getTestCaseRegistry().getAllTests())
      std::printf("  - %s\n", tc.getTestCaseInfo().name.c_str());
    return 77;
  }
  std::printf("GPU: %s\n", device_description().c_str());
  return Catch::Session().run(argc, argv);
}
