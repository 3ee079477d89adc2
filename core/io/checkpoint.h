#pragma once
// attnlab's own checkpoints: safetensors whose metadata holds the model config as JSON
// ("attnlab.config"), the tokenizer description ("attnlab.tokenizer") and, for training
// checkpoints, the optimizer state tensors ("adam.m.*", "adam.v.*") and "attnlab.train".
#include <map>
#include <memory>
#include <string>

#include "core/model/transformer.h"

namespace attnlab {

struct CheckpointExtras {
  std::map<std::string, Tensor> tensors;           // written next to the weights
  std::map<std::string, std::string> metadata;     // merged into the header metadata
};

void save_checkpoint(const std::string& path, Transformer& model,
                     const CheckpointExtras& extras = {});

struct LoadedAttnlabCheckpoint {
  std::unique_ptr<Transformer> model;
  CheckpointExtras extras;  // everything that is not a model parameter
};

// Throws attnlab::Error when the file is not an attnlab checkpoint, is truncated or corrupted,
// or its tensors do not match its config.
LoadedAttnlabCheckpoint load_attnlab_checkpoint(const std::string& path);

// True when `path` is a safetensors file carrying attnlab.config metadata.
bool is_attnlab_checkpoint(const std::string& path);

}  // namespace attnlab
