#pragma once
// Helpers every test binary shares: where the shared data lives, temp folders,
// and running the PyTorch oracle scripts.
#include <cstdint>
#include <filesystem>
#include <string>

namespace attnlab::test {

// ../shared (or $ATTNLAB_SHARED_DIR). Fails the test with a clear message if `rel` is missing.
std::filesystem::path shared_file(const std::string& rel);
// The project root (or $ATTNLAB_SOURCE_DIR).
std::filesystem::path source_dir();
// A fresh empty folder under the system temp dir, unique per call.
std::filesystem::path temp_dir(const std::string& tag);
// Runs /usr/bin/python3 tests/oracle/<script> with args; fails the test on non-zero exit,
// showing the script's output.
void run_oracle(const std::string& script, const std::string& args);

}  // namespace attnlab::test

#include <vector>

namespace attnlab::test {

// max_i |got_i - want_i| / max(max_i |want_i|, floor): the error relative to the tensor's scale.
// Fails the test if the sizes differ.
double max_rel_error(const std::vector<float>& got, const std::vector<float>& want,
                     double floor = 1e-3);
// Random N(0, std) values from a seeded generator.
std::vector<float> random_normal(size_t n, uint64_t seed, float std = 1.0f);
// T random token ids in [0, vocab) from a seeded generator.
std::vector<int32_t> random_tokens(int T, int vocab, uint64_t seed);

// The attnlab CLI next to the test binaries (build/experiments/attnlab) or $ATTNLAB_BIN.
std::filesystem::path attnlab_bin();
// Runs a shell command, returning its exit code and (stdout + stderr) in `output`.
int run_command(const std::string& cmd, std::string& output);

}  // namespace attnlab::test
