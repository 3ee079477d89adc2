#include "tests/test_support.h"

#include <catch2/catch.hpp>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

namespace attnlab::test {

namespace fs = std::filesystem;

static fs::path env_or(const char* var, const char* fallback) {
  const char* v = std::getenv(var);
  return fs::path(v && *v ? v : fallback);
}

fs::path shared_file(const std::string& rel) {
  fs::path p = env_or("ATTNLAB_SHARED_DIR", ATTNLAB_SHARED_DIR_DEFAULT) / rel;
  if (!fs::exists(p))
    FAIL("required shared data file is missing: " << p.string()
         << " (set ATTNLAB_SHARED_DIR to the folder holding models/, corpora/, tokenizers/)");
  return p;
}

fs::path source_dir() { return env_or("ATTNLAB_SOURCE_DIR", ATTNLAB_SOURCE_DIR_DEFAULT); }

fs::path temp_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  fs::path p = fs::temp_directory_path() /
               ("attnlab_test_" + tag + "_" + std::to_string(getpid()) + "_" +
                std::to_string(counter++));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void run_oracle(const std::string& script, const std::string& args) {
  fs::path py = source_dir() / "tests" / "oracle" / script;
  std::string cmd = "/usr/bin/python3 " + py.string() + " " + args, out;
  int rc = run_command(cmd, out);
  INFO("oracle command: " << cmd << "\n" << out);
  REQUIRE(rc == 0);
}

}  // namespace attnlab::test

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/tensor/rng.h"

namespace attnlab::test {

double max_rel_error(const std::vector<float>& got, const std::vector<float>& want, double floor) {
  REQUIRE(got.size() == want.size());
  double scale = floor, err = 0;
  for (size_t i = 0; i < want.size(); ++i) scale = std::max(scale, double(std::fabs(want[i])));
  for (size_t i = 0; i < want.size(); ++i) err = std::max(err, double(std::fabs(got[i] - want[i])));
  return err / scale;
}

std::vector<float> random_normal(size_t n, uint64_t seed, float std) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = float(rng.normal() * std);
  return v;
}

std::vector<int32_t> random_tokens(int T, int vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> t(static_cast<size_t>(T));
  for (auto& x : t) x = int32_t(rng.uniformf(0.0f, float(vocab) - 0.01f));
  return t;
}

fs::path attnlab_bin() {
  if (const char* env = std::getenv("ATTNLAB_BIN")) return env;
  fs::path p = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "experiments" / "attnlab";
  if (!fs::exists(p)) FAIL("the attnlab binary is missing at " << p << " (build target attnlab, or set ATTNLAB_BIN)");
  return p;
}

int run_command(const std::string& cmd, std::string& output) {
  output.clear();
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, f)) output.append(buf, n);
  int status = pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run_logged(const std::string& cmd, const fs::path& log) {
  int rc = std::system((cmd + " > '" + log.string() + "' 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& log, int step_delay_ms,
            const std::function<void()>& in_child) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::fopen(log.c_str(), "w");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    setenv("ATTNLAB_STEP_DELAY_MS", std::to_string(step_delay_ms).c_str(), 1);
    if (in_child) in_child();
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

bool poll_until(const std::function<bool()>& pred, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace attnlab::test
