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
  // Sizes no machine holds stop before allocation, naming the keys and the limit.
  const std::string quick = bin + " --task 'copy(batch=4)'";  // a task that loads in no time
  CHECK(run_command(
            quick + " --model '{\"d_model\": 1000000, \"n_layers\": 100000, \"d_ff\": 1000000}'",
            out) == 1);
  CHECK(out.find("--model") != std::string::npos);
  CHECK(out.find("n_layers 100000") != std::string::npos);
  CHECK(out.find("memory") != std::string::npos);
  CHECK(run_command(quick + " --model '{\"attention\": " + std::string(1000, '[') + "}'", out) ==
        1);
  CHECK(out.find("deeper than 64") != std::string::npos);
  CHECK(run_command(attnlab_bin().string() + " train --preset huge --out " + dir.string(), out) == 1);
  CHECK(out.find("unknown model preset") != std::string::npos);
  std::ofstream(dir / "bad.toml") << "[model]\nd_modle = 3\n";
  CHECK(run_command(bin + " --config " + (dir / "bad.toml").string(), out) == 1);
  CHECK(out.find("bad.toml:2") != std::string::npos);
}

TEST_CASE("attnlab train --device/--precision: clear errors, GPU training where a GPU exists", "[cli][device]") {
  fs::path dir = attnlab::test::temp_dir("cli_train_device");
  const std::string bin = attnlab_bin().string() + " train --preset tiny --task 'copy(batch=4)' --steps 3 --warmup 1 --out " +
                          (dir / "run").string();
  std::string out;
  CHECK(run_command(bin + " --device tpu", out) == 1);
  CHECK(out.find("unknown device 'tpu'") != std::string::npos);
  CHECK(run_command(bin + " --precision fp16", out) == 1);
  CHECK(out.find("unknown precision 'fp16'") != std::string::npos);
  CHECK(run_command(bin + " --precision tf32", out) == 1);
  CHECK(out.find("needs --device cuda") != std::string::npos);

  // The same test on either kind of machine: without a GPU (or without the CUDA backend) the
  // reason, before any work; with one, a run on the GPU that writes its model.
  const int rc = run_command(bin + " --device cuda --precision tf32", out);
  INFO(out);
  if (rc == 0) {
    CHECK(out.find("device: cuda") != std::string::npos);
    CHECK(fs::exists(dir / "run" / "model.safetensors"));
  } else {
    CHECK(rc == 1);
    const bool says_why = out.find("needs a CUDA GPU") != std::string::npos ||
                          out.find("no CUDA backend") != std::string::npos;
    CHECK(says_why);
    CHECK_FALSE(fs::exists(dir / "run" / "model.safetensors"));
  }
}

TEST_CASE("a Slurm submit for the GPU is written on a machine without one", "[cli][device][slurm]") {
  fs::path dir = attnlab::test::temp_dir("cli_submit_gpu");
  std::ofstream(dir / "study.toml") << "name = \"gpu\"\n[model]\npreset = \"tiny\"\n[task]\nname = \"copy\"\n"
                                       "[train]\nsteps = 2\n";
  const std::string submit = attnlab_bin().string() + " sweep submit " + (dir / "study.toml").string() +
                             " --slurm --dry-run --out " + (dir / "out").string();
  std::string out;
  INFO(out);
  // A login node has no GPU: the submit must not ask for one, only check the names.
  REQUIRE(run_command(submit + " --device cuda --precision bf16", out) == 0);
  std::ifstream in(dir / "out" / "slurm" / "sweep.sbatch");
  std::string script((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(script.find("--device cuda --precision bf16") != std::string::npos);
  CHECK(script.find("#SBATCH --gpus-per-task=1") != std::string::npos);
  CHECK(run_command(submit + " --device cuda --precision fp8", out) == 1);
  CHECK(out.find("unknown precision 'fp8'") != std::string::npos);
}
