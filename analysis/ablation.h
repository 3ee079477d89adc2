#pragma once
// Head ablation: the causal test of a finding. A HeadAblation observer overwrites the chosen
// heads' outputs (before the output projection, via ForwardObserver::on_head_outputs) with zero,
// with the head's mean output, or with what uniform attention over the head's visible keys gives
// (the mean of those keys' values: how Wu et al. mask retrieval heads), then any probe is re-run
// with it attached to the model.
//
// Head names: "L<layer>H<head>", both 0-based, comma-separated: "L0H1,L5H3". A name that does
// not exist in the model is an attnlab::Error listing the valid range.
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/observer.h"

namespace attnlab {

class Transformer;

struct HeadRef {
  int layer = 0, head = 0;
  std::string str() const { return "L" + std::to_string(layer) + "H" + std::to_string(head); }
  bool operator==(const HeadRef& o) const { return layer == o.layer && head == o.head; }
};

// Parses "L0H1,L5H3" (spaces allowed around commas; empty -> none) and checks each head exists.
std::vector<HeadRef> parse_heads(const std::string& list, int n_layers, int n_heads);

enum class AblationMode { zero, mean, uniform };
AblationMode parse_ablation_mode(const std::string& s);  // "zero" | "mean" | "uniform"

class HeadAblation : public ForwardObserver {
 public:
  HeadAblation(std::vector<HeadRef> heads, AblationMode mode, int n_layers, int n_heads);

  // Mean ablation needs each head's mean output: one un-ablated forward over `tokens` [B, T]
  // records it (mean over every batch item and position, per output dimension). Replacing a
  // head by a mean taken over its own forward would leak later positions into earlier ones,
  // so the means are fixed here, before the ablated runs. Attaches itself for this one forward:
  // call it before add_observer().
  void calibrate(Transformer& model, const int32_t* tokens, int B, int T);
  bool calibrated() const { return calibrated_; }

  void on_attention(const LayerAttentionView& view) override;
  void on_head_outputs(int layer, const AttnShape& shape, float* out) override;

  const std::vector<HeadRef>& heads() const { return heads_; }
  std::string describe() const;  // e.g. "zero: L0H1,L5H3"

 private:
  std::vector<HeadRef> heads_;
  AblationMode mode_;
  int L_, H_;
  bool recording_ = false, calibrated_ = false;
  std::vector<std::vector<double>> mean_;  // [L*H][Dh] for ablated heads
  std::vector<int64_t> mean_n_;
  // Uniform mode: the values [B, H, T, Dh] and attention spec of the layer whose outputs come next
  // (on_attention precedes on_head_outputs in the same block).
  const float* values_ = nullptr;
  std::string spec_;
};

}  // namespace attnlab
