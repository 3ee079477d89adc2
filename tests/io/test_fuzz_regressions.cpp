// The fuzz targets' regression inputs and seeds for the file loaders, through the gcc-built
// loaders (tests/fuzz_replay.h; the fuzz build itself is clang-only and not part of ctest).
#include "fuzz/feeds.h"
#include "tests/fuzz_replay.h"

using namespace attnlab;

TEST_CASE("fuzz inputs: GGUF", "[fuzz]") { test::replay_fuzz_inputs("gguf", fuzz::feed_gguf); }
TEST_CASE("fuzz inputs: safetensors", "[fuzz]") {
  test::replay_fuzz_inputs("safetensors", fuzz::feed_safetensors);
}
TEST_CASE("fuzz inputs: llama2.c", "[fuzz]") {
  test::replay_fuzz_inputs("llama2c", fuzz::feed_llama2c);
}
TEST_CASE("fuzz inputs: llama2.c tokenizer", "[fuzz]") {
  test::replay_fuzz_inputs("llama2c_tokenizer", fuzz::feed_llama2c_tokenizer);
}
TEST_CASE("fuzz inputs: HF tokenizer.json", "[fuzz]") {
  test::replay_fuzz_inputs("hf_tokenizer", fuzz::feed_hf_tokenizer);
}
TEST_CASE("fuzz inputs: HF config.json", "[fuzz]") {
  test::replay_fuzz_inputs("hf_config", fuzz::feed_hf_config);
}
TEST_CASE("fuzz inputs: attnlab checkpoint", "[fuzz]") {
  test::replay_fuzz_inputs("checkpoint", fuzz::feed_checkpoint);
}
TEST_CASE("fuzz inputs: attention specs", "[fuzz]") {
  test::replay_fuzz_inputs("attention_spec", fuzz::feed_attention_spec);
}
