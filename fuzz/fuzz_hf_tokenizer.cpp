// Hugging Face tokenizer.json (core/tokenizer/hf_tokenizer.*): loading, then encoding a text
// that reaches the pre-tokenizer's classes, added tokens and merges, and decoding it back.
#include "core/tokenizer/hf_tokenizer.h"
#include "fuzz/feeds.h"
#include "fuzz/fuzz_support.h"

void attnlab::fuzz::feed_hf_tokenizer(const uint8_t* data, size_t size) {
  // The loader only takes a path.
  const std::string path = write_temp_file("tokenizer.json", data, size);
  std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(path);
  std::vector<int32_t> ids = tok->encode(
      "Hello world's 42  tokens<|endoftext|>\n\xc3\xa9t\xc3\xa9 \xe2\x96\x81x \xff", false);
  tok->decode(ids);
}

ATTNLAB_FUZZ_ENTRY(feed_hf_tokenizer)
