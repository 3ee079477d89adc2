// llama2.c / SentencePiece vocabularies (tok512.bin format; core/tokenizer/sentencepiece_bpe.*):
// loading, then a round trip through the BPE merges with whatever vocabulary the input holds.
#include "core/tokenizer/sentencepiece_bpe.h"
#include "fuzz/feeds.h"
#include "fuzz/fuzz_support.h"

void attnlab::fuzz::feed_llama2c_tokenizer(const uint8_t* data, size_t size) {
  // The loader only takes a path.
  const std::string path = write_temp_file("tokenizer.bin", data, size);
  std::unique_ptr<Tokenizer> tok = load_llama2c_tokenizer(path);
  // Text with a space, multi-byte UTF-8 and a byte no vocabulary holds.
  std::vector<int32_t> ids =
      tok->encode("Once upon a time, \xc3\xa9t\xc3\xa9 \xff!", tok->bos_id() >= 0);
  tok->decode(ids);
}

ATTNLAB_FUZZ_ENTRY(feed_llama2c_tokenizer)
