#pragma once
// GGUF model files (llama.cpp) for the llama and qwen2 architectures, dequantized to float.
// llama.cpp stores llama q/k rows in the interleaved RoPE layout (its converter undoes HF's
// permutation), so llama loads with rope_style interleaved; qwen2 keeps HF's half layout.
#include <string>

#include "core/io/loaded_model.h"

namespace attnlab {

LoadedModel load_gguf_model(const std::string& path);

}  // namespace attnlab
