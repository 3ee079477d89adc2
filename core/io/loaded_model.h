#pragma once
// What every checkpoint reader produces: our model config, weights named as transformer.h
// documents (already in our layout: [out, in] linears, RoPE pairs as config.rope_style says), and
// the tokenizer the checkpoint carries (null when it has none).
#include <map>
#include <memory>
#include <string>

#include "core/model/config.h"
#include "core/tensor/tensor.h"
#include "core/tokenizer/tokenizer.h"

namespace attnlab {

struct LoadedModel {
  ModelConfig config;
  std::map<std::string, Tensor> weights;
  std::shared_ptr<Tokenizer> tokenizer;
  std::string format;  // "attnlab" | "hf" | "gguf" | "llama2c"
  std::string path;
  // Facts worth showing in `attnlab info`: source dtypes/quant types, original model_type, ...
  std::map<std::string, std::string> notes;
};

// Llama-family defaults (RoPE, RMSNorm, SwiGLU, no biases, BOS prepended) shared by the
// llama2.c, GGUF and HF llama readers.
ModelConfig llama_family_config();

// Where the classifier equals the embedding bit for bit, drops lm_head.weight and marks the
// config tied: a file that stores the tied matrix twice loads as the same model as one that
// stores it once.
void tie_if_identical(LoadedModel& m);

}  // namespace attnlab
