// `attnlab analyze --device`: on a build or machine without a GPU, `--device cuda` stops before
// any work with a clear message and exit code 1 (never a crash); `--device cpu` stays the default
// and records itself in the table. The GPU side runs in tests/cuda/gpu/test_analyze_gpu.cpp.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/test_support.h"
#ifdef ATTNLAB_HAVE_CUDA
#include "core/cuda/runtime.h"
#endif

using attnlab::test::attnlab_bin;
using attnlab::test::run_command;
namespace fs = std::filesystem;

namespace {

bool gpu_here() {
#ifdef ATTNLAB_HAVE_CUDA
  return attnlab::cuda::cuda_available();
#else
  return false;
#endif
}

std::string analyze_stories() {
  return attnlab_bin().string() + " analyze " +
         attnlab::test::shared_file("models/stories260K/stories260K.gguf").string();
}

}  // namespace

TEST_CASE("attnlab analyze --device cuda without a GPU fails with the reason", "[cli][analyze][device]") {
  if (gpu_here()) {
    SUCCEED("this machine has a GPU: test_cuda_gpu runs analyze --device cuda for real");
    return;
  }
  std::string out;
  for (const std::string extra : {"", " --probe induction", " --prompt 'Once upon a time'", " --T 16384",
                                  " --ablate L0H0"}) {
    INFO(extra << "\n" << out);
    CHECK(run_command(analyze_stories() + " --device cuda" + extra, out) == 1);
    CHECK(out.find("attnlab analyze: error: --device ") != std::string::npos);
#ifdef ATTNLAB_HAVE_CUDA
    // This build has the backend; the machine lacks the driver or the device, and says which.
    CHECK(out.find("needs a CUDA GPU, but") != std::string::npos);
#else
    CHECK(out.find("this build has no CUDA backend") != std::string::npos);
#endif
    CHECK(out.find("internal error") == std::string::npos);
    CHECK(out.find("head ") == std::string::npos);  // no table was printed
  }
  INFO(out);
  CHECK(run_command(analyze_stories() + " --device gpu", out) == 1);  // the synonym says the same
  CHECK(out.find("--device gpu") != std::string::npos);
}

TEST_CASE("attnlab analyze --device rejects unknown devices and defaults to the CPU", "[cli][analyze][device]") {
  std::string out;
  CHECK(run_command(analyze_stories() + " --device tpu", out) == 1);
  CHECK(out.find("unknown device 'tpu' (expected cpu or cuda)") != std::string::npos);

  const fs::path dir = attnlab::test::temp_dir("cli_analyze_device");
  INFO(out);
  REQUIRE(run_command(analyze_stories() + " --n 2 --T 32 --json " + (dir / "cpu.json").string(), out) == 0);
  std::ifstream in(dir / "cpu.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  CHECK(j["meta"]["device"] == "cpu");
  CHECK(j["meta"]["probe"] == "sink");
}
