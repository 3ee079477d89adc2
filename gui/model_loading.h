#pragma once
// Opening a model for the explorer: the project's load_checkpoint (attnlab checkpoints, GGUF,
// llama2.c, HF folders) plus a token codec and the BOS the model expects.
#include <memory>
#include <string>

#include "core/model/transformer.h"
#include "gui/token_codec.h"

namespace attnlab::gui {

struct OpenedModel {
  std::shared_ptr<Transformer> model;
  std::shared_ptr<const TokenCodec> codec;
  int bos = -1;         // prepended to prompts when the model's policy asks for it
  std::string path;
  std::string summary;  // one line: format, family, layers x heads, d_model, params, tokenizer
};

// Throws attnlab::Error with a message naming the file and what is wrong with it.
OpenedModel open_model_file(const std::string& path);

// Model files the open dialog offers.
std::string model_file_filter();

}  // namespace attnlab::gui
