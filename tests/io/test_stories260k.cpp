// The real stories260K model (../shared/models/stories260K), trained by its author with llama2.c:
// the GGUF and the llama2.c .bin load to the same config and weights, and both tokenizers agree
// and round-trip. (Running it: test_stories260k_run.cpp.)
#include <catch2/catch.hpp>

#include "core/tokenizer/sentencepiece_bpe.h"
#include "tests/io/stories260k_fixture.h"
#include "tests/test_support.h"

using namespace attnlab;

using test::author_greedy_sample;

TEST_CASE("stories260K: GGUF and llama2.c .bin give the same config and weights", "[io][stories260k]") {
  const LoadedModel& a = test::stories_bin();
  const LoadedModel& b = test::stories_gguf();
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
  const Tokenizer& a = *test::stories_bin().tokenizer;
  const Tokenizer& b = *test::stories_gguf().tokenizer;
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
