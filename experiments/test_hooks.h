#pragma once
// Hooks the end-to-end tests use to catch a run mid-way; inert unless the variable is set.
#include <chrono>
#include <cstdlib>
#include <thread>

namespace attnlab::exp {

// ATTNLAB_STEP_DELAY_MS=<ms>: sleep this long at every training step (`attnlab train` and sweep
// workers), so that the interrupt, kill and resume tests can signal a tiny model's run between
// steps, during a checkpoint or at the end, without burning the CPU it shares.
inline void test_step_delay() {
  static const int ms = [] {
    const char* v = std::getenv("ATTNLAB_STEP_DELAY_MS");
    return v ? std::atoi(v) : 0;
  }();
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace attnlab::exp
