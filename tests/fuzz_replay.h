#pragma once
// Replays the fuzz targets' inputs in the ordinary (gcc) test suite: every file in
// fuzz/regressions/TARGET/ (inputs that once crashed a loader, minimized) and fuzz/seeds/TARGET/
// goes through the target's own feed function (fuzz/feeds.h), which must return or throw
// attnlab::Error. Any other exception fails the test; a crash fails the binary.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/tensor/error.h"
#include "tests/test_support.h"

namespace attnlab::test {

inline void replay_fuzz_inputs(const std::string& target, void (*feed)(const uint8_t*, size_t)) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const char* kind : {"regressions", "seeds"}) {
    fs::path dir = source_dir() / "fuzz" / kind / target;
    if (fs::is_directory(dir))
      for (const fs::directory_entry& e : fs::directory_iterator(dir))
        if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(!files.empty());  // every target has seeds
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    INFO("fuzz input " << file.string());
    try {
      feed(bytes.data(), bytes.size());
    } catch (const Error&) {
      // Refused with attnlab's error: the contract.
    } catch (const std::exception& e) {
      FAIL("an exception other than attnlab::Error: " << e.what());
    }
  }
}

}  // namespace attnlab::test
