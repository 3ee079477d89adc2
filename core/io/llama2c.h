#pragma once
// llama2.c checkpoints (Karpathy's run.c format). The legacy format ("version 0") is a header of
// 7 int32 {dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len} followed by fp32
// weights; a negative vocab_size means the classifier is stored separately (not shared), and the
// RoPE tables freq_cis_real/imag [seq_len, head_size/2] may or may not sit before it (older exports
// have them; the file size tells which). Version 1 ("ak42" magic, 256-byte header) is fp32 with the
// norms stored first. RoPE pairs are interleaved (Meta layout).
#include <string>

#include "core/io/loaded_model.h"

namespace attnlab {

// tokenizer_path "" looks beside the model for tokenizer.bin, then tok<vocab_size>.bin; when none
// is found the model loads without a tokenizer.
LoadedModel load_llama2c(const std::string& path, const std::string& tokenizer_path = "");

// True when the file starts like a llama2.c checkpoint (legacy header with plausible sizes, or
// the version-1 magic) and its size matches.
bool looks_like_llama2c(const std::string& path);

}  // namespace attnlab
