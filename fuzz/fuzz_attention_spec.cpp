// Attention spec strings (core/attention/spec.*, registry.cpp): the name(key=value)+mask grammar,
// then building the variant for a small model.
#include "core/attention/attention.h"
#include "core/attention/spec.h"
#include "fuzz/feeds.h"
#include "fuzz/fuzz_support.h"

void attnlab::fuzz::feed_attention_spec(const uint8_t* data, size_t size) {
  const std::string text = as_string(data, size);
  parse_spec(text);
  AttnBuildContext ctx;
  ctx.n_heads = 2;
  ctx.head_dim = 4;
  ctx.d_model = 8;
  ctx.n_layers = 2;
  ctx.layer = 1;
  ctx.context = 16;
  make_attention(text, ctx);
}

ATTNLAB_FUZZ_ENTRY(feed_attention_spec)
