#pragma once
// Writes a model as a Hugging Face folder (config.json + model.safetensors + tokenizer.json) that
// transformers and other tools load as gpt2, gpt_neox or llama. The inverse of hf_model.h:
// Conv1D weights transposed for gpt2, q/k/v fused per head for gpt_neox, and interleaved RoPE
// rows permuted to HF's rotate-half order for llama and gpt_neox. A config HF cannot express
// (another attention variant, ALiBi, no positions, mixed choices) is an error naming the
// property. Files are written atomically; the folder is created if needed.
#include <map>
#include <string>

#include "core/model/config.h"
#include "core/tensor/tensor.h"
#include "core/tokenizer/tokenizer.h"

namespace attnlab {

struct HfExportResult {
  std::string model_type;          // gpt2 | gpt_neox | llama
  bool tokenizer_written = false;  // byte, char and SentencePiece BPE tokenizers have a tokenizer.json form
  std::string tokenizer_note;      // why none was written, when it was not
};

HfExportResult export_hf_folder(const ModelConfig& config, const std::map<std::string, Tensor>& weights,
                                const Tokenizer* tokenizer, const std::string& dir);

// tokenizer.json text for byte / char / SentencePiece BPE tokenizers ("" for other kinds).
std::string hf_tokenizer_json(const Tokenizer& tokenizer);

}  // namespace attnlab
