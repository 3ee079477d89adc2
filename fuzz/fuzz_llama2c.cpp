// llama2.c checkpoints (core/io/llama2c.*): format detection, then the model. The temp folder
// holds no tokenizer.bin, so the model loads without one (fuzz_llama2c_tokenizer covers those).
#include "core/io/llama2c.h"
#include "fuzz/feeds.h"
#include "fuzz/fuzz_support.h"

void attnlab::fuzz::feed_llama2c(const uint8_t* data, size_t size) {
  // The reader only takes a path.
  const std::string path = write_temp_file("input.bin", data, size);
  looks_like_llama2c(path);
  load_llama2c(path);
}

ATTNLAB_FUZZ_ENTRY(feed_llama2c)
