#pragma once
// What a Python `attnlab.Model` holds: the opened checkpoint and a lock. The Transformer keeps
// the activations of its last forward, so two Python threads must not run it at once; the GIL
// is released during long calls, so the lock is what serialises them.
#include <mutex>
#include <string>

#include "core/io/open_model.h"

namespace attnlab::py {

struct ModelHandle {
  OpenedModel opened;
  std::string label;         // the path as the caller gave it (a table's meta "model")
  int context_override = 0;  // load(context=...), recorded like the CLI's --context
  std::mutex mu;

  Transformer& model() { return *opened.model; }
  const ModelConfig& config() const { return opened.model->config(); }
};

}  // namespace attnlab::py
