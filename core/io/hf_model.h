#pragma once
// Hugging Face model folders: config.json + model.safetensors (or sharded with
// model.safetensors.index.json) + tokenizer.json. Supported model_type: gpt2, gpt_neox, llama,
// mistral and qwen2. The mapping to our layout is exact:
//   gpt2     Conv1D weights are stored [in, out]: transposed; c_attn is split into q, k, v rows.
//   gpt_neox query_key_value rows are grouped per head as [h][q|k|v][Dh]: de-interleaved;
//            partial rotary (rotary_pct), rotate-half RoPE, parallel residual.
//   llama    q/k rows are in HF's rotate-half order, so rope_style = half (no permutation).
#include <string>

#include <nlohmann/json.hpp>

#include "core/io/loaded_model.h"

namespace attnlab {

// True when `path` is a folder holding config.json.
bool is_hf_folder(const std::string& path);

LoadedModel load_hf_folder(const std::string& path);

// The pure mapping, for tests and for callers that already hold the tensors: HF config + HF
// tensors -> our config + weights. Unknown or missing tensors and unsupported settings are
// errors naming the key or tensor.
LoadedModel map_hf_model(const nlohmann::json& config, std::map<std::string, Tensor> hf_tensors,
                         const std::string& where);

}  // namespace attnlab
