// The real stories260K model (../shared/models/stories260K), trained by its author with llama2.c:
// the GGUF and the llama2.c .bin load to the same weights and logits, greedy decoding from BOS
// reproduces the sample printed in stories260K.md, and both tokenizers agree and round-trip.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "core/io/gguf_model.h"
#include "core/io/llama2c.h"
#include "core/model/transformer.h"
#include "core/tokenizer/sentencepiece_bpe.h"
#include "tests/test_support.h"

using namespace attnlab;

namespace {

// The greedy (-t 0.0) sample from the author's notes: the lines after the `./run ... -t 0.0`
// command up to the closing fence.
std::string author_greedy_sample() {
  std::ifstream in(test::shared_file("models/stories260K/stories260K.md"));
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

const LoadedModel& bin_model() {
  static LoadedModel m = load_llama2c(test::shared_file("models/stories260K/stories260K.bin").string());
  return m;
}
const LoadedModel& gguf_model() {
  static LoadedModel m = load_gguf_model(test::shared_file("models/stories260K/stories260K.gguf").string());
  return m;
}

}  // namespace

TEST_CASE("stories260K: GGUF and llama2.c .bin give the same config and weights", "[io][stories260k]") {
  const LoadedModel& a = bin_model();
  const LoadedModel& b = gguf_model();
  const ModelConfig& c = a.config;
  CHECK(c.d_model == 64);
  CHECK(c.n_layers == 5);
  CHECK(c.n_heads == 8);
  CHECK(c.n_kv_heads == 4);
  CHECK(c.d_ff == 172);
  CHECK(c.vocab_size == 512);
  CHECK(c.context == 512);
  CHECK(c.tied_embeddings);
  CHECK(c.rope_style == RopeStyle::interleaved);
  CHECK(a.notes.at("llama2c.rope_tables") == "present (skipped)");
  CHECK(b.config.tied_embeddings);  // the GGUF stores output.weight, equal to token_embd
  CHECK(b.config.d_model == c.d_model);
  CHECK(b.config.n_kv_heads == c.n_kv_heads);
  CHECK(b.config.d_ff == c.d_ff);
  CHECK(b.config.norm_eps == Approx(1e-5f));
  REQUIRE(a.weights.size() == b.weights.size());
  REQUIRE(a.weights.size() == 2 + 5 * 9);
  for (const auto& [name, t] : a.weights) {
    INFO(name);
    REQUIRE(b.weights.count(name));
    CHECK(b.weights.at(name).shape == t.shape);
    CHECK(b.weights.at(name).data == t.data);
  }
}

TEST_CASE("stories260K tokenizers: tok512.bin and the GGUF vocabulary agree and round-trip", "[io][tokenizer]") {
  const Tokenizer& a = *bin_model().tokenizer;
  const Tokenizer& b = *gguf_model().tokenizer;
  CHECK(a.vocab_size() == 512);
  CHECK(a.bos_id() == 1);
  CHECK(a.eos_id() == 2);
  CHECK(a.bos_policy() == "prepend");
  CHECK(b.bos_id() == 1);
  std::string text = author_greedy_sample();
  std::vector<int32_t> ids = a.encode(text, true);
  CHECK(ids.front() == 1);
  CHECK(ids == b.encode(text, true));
  CHECK(a.decode(ids) == text);
  CHECK(b.decode(ids) == text);
  // Characters outside the vocabulary fall back to bytes and still round-trip.
  for (std::string s : {std::string("naïve café — 日本"), std::string("tabs\tand\nnewlines  "), std::string(" leading space")}) {
    INFO(s);
    std::vector<int32_t> t = a.encode(s, false);
    CHECK(a.decode(t) == s);
    CHECK(b.encode(s, false) == t);
  }
  // Known pieces: the dummy-prefix space joins the first word.
  std::vector<int32_t> once = a.encode("Once", false);
  REQUIRE(once.size() == 1);
  CHECK(a.decode_token(once[0]) == " Once");
  CHECK(a.encode("", true) == std::vector<int32_t>{1});
  CHECK(a.decode_token(3 + '\n') == "\n");  // <0x0A>
}
