// `attnlab train` end to end through the real binary: a run, its resume, and bad input.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/test_support.h"

using attnlab::test::attnlab_bin;
using attnlab::test::run_command;
namespace fs = std::filesystem;

namespace {

int count_log_rows(const fs::path& csv) {
  std::ifstream in(csv);
  std::string line;
  int n = -1;  // header
  while (std::getline(in, line)) ++n;
  return n;
}

}  // namespace

TEST_CASE("attnlab train writes a model, a log, and resumes where it stopped", "[cli][train]") {
  fs::path dir = attnlab::test::temp_dir("cli_train");
  const std::string base = attnlab_bin().string() +
                           " train --preset tiny --task 'copy(batch=4)' --warmup 2 --eval-every 5"
                           " --out " + (dir / "run").string();
  std::string out;
  INFO(out);
  REQUIRE(run_command(base + " --steps 10", out) == 0);
  CHECK(fs::exists(dir / "run" / "model.safetensors"));
  CHECK(count_log_rows(dir / "run" / "train_log.csv") == 10);
  REQUIRE(run_command(base + " --steps 16 --resume", out) == 0);
  CHECK(out.find("resumed from") != std::string::npos);
  CHECK(count_log_rows(dir / "run" / "train_log.csv") == 16);

  std::string info;
  REQUIRE(run_command(attnlab_bin().string() + " info " + (dir / "run" / "model.safetensors").string(), info) == 0);
  CHECK(info.find("format:      attnlab") != std::string::npos);
}

TEST_CASE("attnlab train rejects bad input with a clear message and non-zero exit", "[cli][errors]") {
  fs::path dir = attnlab::test::temp_dir("cli_train_bad");
  const std::string bin = attnlab_bin().string() + " train --preset tiny --steps 2 --out " + dir.string();
  std::string out;
  CHECK(run_command(bin + " --attention 'softmaxx'", out) == 1);
  CHECK(out.find("unknown attention variant") != std::string::npos);
  CHECK(run_command(bin + " --task 'nosuchtask'", out) == 1);
  CHECK(out.find("unknown task") != std::string::npos);
  CHECK(run_command(bin + " --model '{\"d_model\": 66}'", out) == 1);
  CHECK(out.find("not divisible by n_heads") != std::string::npos);
  CHECK(run_command(attnlab_bin().string() + " train --preset huge --out " + dir.string(), out) == 1);
  CHECK(out.find("unknown model preset") != std::string::npos);
  std::ofstream(dir / "bad.toml") << "[model]\nd_modle = 3\n";
  CHECK(run_command(bin + " --config " + (dir / "bad.toml").string(), out) == 1);
  CHECK(out.find("bad.toml:2") != std::string::npos);
}
