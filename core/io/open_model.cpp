#include "core/io/open_model.h"

#include "core/tensor/error.h"

namespace attnlab {

OpenedModel open_model(const std::string& path, const LoadOptions& options) {
  // An attnlab checkpoint is read straight into the model its reader builds; every other format
  // arrives as named weights and is copied into a new model (for a moment, twice the weights).
  std::unique_ptr<Transformer> built;
  LoadedModel lm = detect_checkpoint_format(path) == "attnlab" ? load_attnlab_model(path, built)
                                                               : load_checkpoint(path, options);
  if (options.context > 0 && options.context != lm.config.context) {
    if (built) {
      lm.weights = built->take_weights();
      built.reset();
    }
    const int file_context = lm.config.context;
    if (lm.config.pos == PosEncoding::learned) {
      // Learned positions exist only up to the file's context; a shorter one keeps their start.
      if (options.context > file_context)
        throw Error(path + ": --context " + std::to_string(options.context) + " exceeds the " +
                    std::to_string(file_context) + " learned positions the file holds");
      auto it = lm.weights.find("pos_emb.weight");
      if (it != lm.weights.end()) {
        Tensor& w = it->second;
        w.data.resize(size_t(options.context) * size_t(w.dim(1)));
        w.shape[0] = options.context;
      }
    }
    lm.config.context = options.context;
    lm.notes["context"] = std::to_string(options.context) + " (--context; the file says " +
                          std::to_string(file_context) + ")";
  }
  OpenedModel out;
  try {
    if (built) {
      out.model = std::move(built);
    } else {
      out.model = std::make_unique<Transformer>(lm.config);
      out.model->load_weights(lm.weights);
    }
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
