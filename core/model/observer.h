#pragma once
// Hooks into the forward pass. Analysis is built on these: an observer asks for what it
// needs, and nothing stores T x T attention unless an observer chooses to.
#include "core/attention/attention.h"
#include "core/tensor/tensor.h"

namespace attnlab {

class Attention;

struct LayerAttentionView {
  int layer = 0;
  const Attention* attention = nullptr;  // call pattern() on it to stream rows
  const AttnInputs* inputs = nullptr;    // q/k/v per head (kv already expanded) and x
};

class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;

  // Called after each layer's attention with everything needed to stream its rows
  // (attention->pattern(*inputs, b, h, visitor)) and read q, k, v.
  virtual void on_attention(const LayerAttentionView& view) {}

  // Per-head attention outputs [B, H, T, Dh] before the output projection. An observer
  // may modify them in place: this is how head ablation intervenes.
  virtual void on_head_outputs(int layer, const AttnShape& shape, float* out) {}

  // The residual stream [B, T, d_model] after block `layer` (layer = -1: the embeddings).
  virtual void on_residual(int layer, const Tensor& h) {}

  // True when on_attention reads LayerAttentionView::inputs->x: an inference forward otherwise
  // passes it only to variants that read it (Attention::reads_input).
  virtual bool needs_block_input() const { return false; }
};

}  // namespace attnlab
