// safetensors files (core/io/safetensors.*): the header alone, then header and data.
#include "core/io/safetensors.h"
#include "fuzz/feeds.h"
#include "fuzz/fuzz_support.h"

void attnlab::fuzz::feed_safetensors(const uint8_t* data, size_t size) {
  // The readers only take a path.
  const std::string path = write_temp_file("input.safetensors", data, size);
  read_safetensors_header(path);
  read_safetensors(path);
}

ATTNLAB_FUZZ_ENTRY(feed_safetensors)
