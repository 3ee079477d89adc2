#pragma once
// One entry point for every checkpoint a user points attnlab at. The format is detected from
// the path and the file's first bytes:
//   folder with config.json            Hugging Face (hf_model.h)
//   *.safetensors with attnlab.config   our own checkpoint (checkpoint.h)
//   *.safetensors beside a config.json  the Hugging Face folder it sits in
//   file starting with "GGUF"           GGUF (gguf_model.h)
//   llama2.c header + matching size     llama2.c (llama2c.h)
#include <memory>
#include <string>

#include "core/io/loaded_model.h"
#include "core/model/transformer.h"

namespace attnlab {

struct LoadOptions {
  std::string tokenizer_path;  // llama2.c: the tokenizer .bin when it is not beside the model
  // > 0: the context to use instead of the file's (open_model). A GGUF converted from llama2.c
  // records the converter's 2048 where the model was trained at 512; nothing in it says so.
  int context = 0;
};

// "hf" | "attnlab" | "gguf" | "llama2c"; an attnlab::Error naming the path when none fits.
std::string detect_checkpoint_format(const std::string& path);

LoadedModel load_checkpoint(const std::string& path, const LoadOptions& options = {});

// An attnlab checkpoint whose weights stay in the model its reader built (`model`; the returned
// weights are empty): open_model's way to never hold the weights twice.
LoadedModel load_attnlab_model(const std::string& path, std::unique_ptr<Transformer>& model);

}  // namespace attnlab
