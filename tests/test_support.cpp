#include "tests/test_support.h"

#include <catch2/catch.hpp>
#include <atomic>
#include <cstdio>
#include <cstdlib>
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
  std::string cmd = "/usr/bin/python3 " + py.string() + " " + args + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  REQUIRE(f != nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  int rc = pclose(f);
  INFO("oracle command: " << cmd << "\n" << out);
  REQUIRE(rc == 0);
}

}  // namespace attnlab::test

#include <algorithm>
#include <cmath>

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

}  // namespace attnlab::test
