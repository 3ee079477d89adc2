#pragma once
// The real stories260K model from ../shared, loaded once per test binary, and the greedy sample
// its author printed in stories260K.md.
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "core/io/gguf_model.h"
#include "core/io/llama2c.h"
#include "tests/test_support.h"

namespace attnlab::test {

// The greedy (-t 0.0) sample from the author's notes: the lines after the `./run ... -t 0.0`
// command up to the closing fence.
inline std::string author_greedy_sample() {
  std::ifstream in(shared_file("models/stories260K/stories260K.md"));
  std::string line, text;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line.find("./run stories260K/stories260K.bin") != std::string::npos && line.find("-t 0.0") != std::string::npos) {
      inside = true;
      continue;
    }
    if (inside) {
      if (line.rfind("```", 0) == 0) break;
      text += (text.empty() ? "" : "\n") + line;
    }
  }
  REQUIRE(inside);
  return text;
}

inline const LoadedModel& stories_bin() {
  static LoadedModel m = load_llama2c(shared_file("models/stories260K/stories260K.bin").string());
  return m;
}

inline const LoadedModel& stories_gguf() {
  static LoadedModel m = load_gguf_model(shared_file("models/stories260K/stories260K.gguf").string());
  return m;
}

}  // namespace attnlab::test
