#pragma once
// Shared by the libFuzzer targets in this folder.
//
// A target's contract: every input either loads or throws attnlab::Error. run_input() turns
// anything else that escapes (std::bad_alloc, nlohmann's exceptions, std::out_of_range, ...)
// into an abort with the exception's message, so libFuzzer reports it as a crash and keeps the
// input; crashes and sanitizer reports are findings on their own.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "core/tensor/error.h"

namespace attnlab::fuzz {

// A folder of this process's own, /tmp/attnlab-fuzz-<pid>, created on first use and removed at
// exit. The pid keeps the workers of `-jobs=N` apart.
const std::string& temp_dir();

// Writes the input to temp_dir()/name and returns that path. Loaders that only take a path read
// the input from there; the same path is rewritten for every input, so nothing piles up.
std::string write_temp_file(const std::string& name, const uint8_t* data, size_t size);

// The input as text (spec strings, TOML).
inline std::string as_string(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs one input through `load`; attnlab::Error is the expected way to refuse it.
template <class F>
int run_input(F&& load) {
  try {
    load();
  } catch (const attnlab::Error& e) {
    // A refused input: what the loaders promise. ATTNLAB_FUZZ_VERBOSE=1 shows why, to check
    // that a seed gets past the first checks (fuzz/README.md).
    static const bool verbose = std::getenv("ATTNLAB_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "attnlab::Error: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attnlab fuzz: escaped exception that is not attnlab::Error: %s\n",
                 e.what());
    std::abort();
  }
  return 0;
}

}  // namespace attnlab::fuzz

// Each fuzz_NAME.cpp defines attnlab::fuzz::feed_NAME (declared in fuzz/feeds.h), what the target
// does with one input, and makes it the libFuzzer entry point with ATTNLAB_FUZZ_ENTRY. The
// Catch2 regression tests compile the same files with ATTNLAB_FUZZ_REPLAY, which leaves the entry
// point out, and replay fuzz/regressions/NAME/ through the same feed functions.
#ifdef ATTNLAB_FUZZ_REPLAY
#define ATTNLAB_FUZZ_ENTRY(feed)
#else
#define ATTNLAB_FUZZ_ENTRY(feed)                                               \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {    \
    return attnlab::fuzz::run_input([&] { attnlab::fuzz::feed(data, size); }); \
  }
#endif
