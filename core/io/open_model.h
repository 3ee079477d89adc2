#pragma once
// Load any checkpoint and build the runnable model: the one call the CLI, analysis and GUI use.
#include <memory>
#include <string>

#include "core/io/load_checkpoint.h"
#include "core/model/transformer.h"

namespace attnlab {

struct OpenedModel {
  std::unique_ptr<Transformer> model;
  std::shared_ptr<Tokenizer> tokenizer;  // null when the checkpoint carries none
  std::string format;                    // "attnlab" | "hf" | "gguf" | "llama2c"
  std::string path;
  std::map<std::string, std::string> notes;
};

// Throws attnlab::Error naming the file and what is wrong (format, missing tensor, shape, ...).
OpenedModel open_model(const std::string& path, const LoadOptions& options = {});

}  // namespace attnlab
