// attnlab checkpoints (core/io/checkpoint.*, load_checkpoint.*): a safetensors file whose
// metadata holds the model config as JSON, the task and the training vocabulary; load_checkpoint
// builds the Transformer from the config and the tokenizer from attnlab.vocab.
#include "core/io/load_checkpoint.h"
#include "fuzz/feeds.h"
#include "fuzz/fuzz_support.h"

void attnlab::fuzz::feed_checkpoint(const uint8_t* data, size_t size) {
  // The .safetensors name sends load_checkpoint to the attnlab reader (or to its error that the
  // file is neither attnlab's nor beside a config.json).
  const std::string path = write_temp_file("input.safetensors", data, size);
  load_checkpoint(path);
}

ATTNLAB_FUZZ_ENTRY(feed_checkpoint)
