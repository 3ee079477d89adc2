#pragma once
// Double Sparsity's offline channel calibration (andy-yang-1/DoubleSparse
// config/offline_calibration.py, the "qk" statistic): per head, channels ranked by the mean of
// |q_c k_c| over same-position pairs, after RoPE. Attach to a model, run a forward on calibration
// inputs, then hand channels() to channel_topk; calibrating on one input and evaluating on
// another tests the paper's claim that the channel ranking is "relatively static".
#include <vector>

#include "core/model/observer.h"

namespace attnlab {

class ChannelCalibration : public ForwardObserver {
 public:
  ChannelCalibration(int n_layers, int n_heads);
  void on_attention(const LayerAttentionView& view) override;
  bool calibrated() const { return rows_ > 0; }
  // Channels of one head, most important first (ties to the lower channel). Throws before any
  // forward or for a head outside the model.
  const std::vector<int>& channels(int layer, int head) const;

 private:
  int L_, H_;
  int64_t rows_ = 0;
  std::vector<std::vector<double>> sum_;  // [L*H][Dh]
  mutable std::vector<std::vector<int>> order_;
};

}  // namespace attnlab
