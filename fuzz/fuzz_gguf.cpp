// GGUF files (core/io/gguf.*, gguf_model.*): the header, metadata and tensor descriptors, every
// tensor's dequantization, then the model and SentencePiece tokenizer built from them.
#include "core/io/gguf.h"
#include "core/io/gguf_model.h"
#include "fuzz/feeds.h"
#include "fuzz/fuzz_support.h"

void attnlab::fuzz::feed_gguf(const uint8_t* data, size_t size) {
  // read_gguf only takes a path.
  const std::string path = write_temp_file("input.gguf", data, size);
  GgufFile file = read_gguf(path);
  for (const auto& [name, info] : file.tensors) read_gguf_tensor(file, name);
  load_gguf_model(path);
}

ATTNLAB_FUZZ_ENTRY(feed_gguf)
