#pragma once
// One forward pass of a prompt, kept so that any head's T x T map can be drawn later without
// re-running the model: each layer's attention inputs (q, k, v, x) are copied as the forward
// pass produces them (memory ~ layers x T x d_model, never layers x heads x T x T), and a head's
// map is materialized on demand through the variant's own pattern().
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "analysis/key_mask.h"
#include "analysis/sparse/selection_stream.h"
#include "core/model/transformer.h"

namespace attnlab::gui {

// Thrown out of a forward pass the user cancelled.
struct Cancelled {};

// A materialized map: row t holds the weights query t gives keys 0..T-1 (0 above the diagonal).
struct HeadPattern {
  int layer = -1, head = -1, T = 0;
  std::vector<float> w;  // [T, T]
  KeyMask mask;          // the layer's mask terms, prepared for T (plain causal when none)
  float at(int t, int j) const { return w[size_t(t) * T + j]; }
};

class CapturedForward {
 public:
  // Runs model.forward on `tokens` (one sequence). `cancel` is polled after every layer;
  // `progress` receives the fraction of layers done. Throws attnlab::Error for bad tokens
  // or a prompt longer than the context, Cancelled when cancelled.
  static std::shared_ptr<const CapturedForward> run(
      std::shared_ptr<Transformer> model, const std::vector<int32_t>& tokens,
      const std::atomic<bool>* cancel = nullptr,
      const std::function<void(double)>& progress = {});

  int T() const { return int(tokens_.size()); }
  int n_layers() const { return int(layers_.size()); }
  int n_heads() const { return n_heads_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  // The model that ran (the GPU tile source uploads its weights to recompute tiles there).
  std::shared_ptr<Transformer> model() const { return model_; }

  // The map of one head. Throws attnlab::Error for a layer or head out of range.
  HeadPattern pattern(int layer, int head) const;
  // Streams the rows of one head without materializing the map.
  void stream_rows(int layer, int head, const RowVisitor& visit) const;
  // Streams one head's rows with each selector's key set per row: what the recall engine
  // measures (analysis/sparse/selection_stream.h), on the captured prompt.
  void stream_selections(int layer, int head, const std::vector<SparseSelector*>& selectors,
                         const SelectionVisitor& visit) const;
  bool normalized_rows(int layer) const;
  std::string attention_spec(int layer) const;
  // The layer's mask terms (from its spec), prepared for this prompt's T.
  KeyMask mask(int layer) const;

 private:
  struct Layer {
    AttnShape shape;
    std::vector<float> q, k, v, x;
  };
  void check_head(int layer, int head) const;
  std::shared_ptr<Transformer> model_;
  std::vector<int32_t> tokens_;
  std::vector<Layer> layers_;
  int n_heads_ = 0;
};

}  // namespace attnlab::gui
