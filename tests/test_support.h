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

#include <sys/types.h>

#include <functional>
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

// The whole file as bytes ("" when it cannot be read).
std::string read_file(const std::filesystem::path& p);
// Runs a shell command with stdout and stderr into `log`; returns its exit code (-1: killed).
int run_logged(const std::string& cmd, const std::filesystem::path& log);
// Starts args[0] with args as a child process writing stdout and stderr to `log`, with
// ATTNLAB_STEP_DELAY_MS=step_delay_ms (a sleep per training step, experiments/test_hooks.h);
// `in_child` runs in the child before exec (resource limits, signal dispositions). Returns its pid.
pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log,
            int step_delay_ms = 0, const std::function<void()>& in_child = {});
// Polls `pred` every 10 ms until it holds (true) or `timeout_ms` passes (false): a hang guard.
bool poll_until(const std::function<bool()>& pred, int timeout_ms = 30000);

}  // namespace attnlab::test
