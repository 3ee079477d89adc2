#include "core/io/open_model.h"

#include "core/tensor/error.h"

namespace attnlab {

OpenedModel open_model(const std::string& path, const LoadOptions& options) {
  LoadedModel lm = load_checkpoint(path, options);
  OpenedModel out;
  try {
    out.model = std::make_unique<Transformer>(lm.config);
    out.model->load_weights(lm.weights);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  out.tokenizer = std::move(lm.tokenizer);
  out.format = lm.format;
  out.path = lm.path;
  out.notes = std::move(lm.notes);
  return out;
}

}  // namespace attnlab
