#pragma once
// Sparse replacement at inference (issue 16 item 2, shared/SPARSE.md 1.5): chosen heads run a
// sparse pattern instead of their dense attention. A ForwardObserver rewrites those heads' outputs
// (like HeadAblation) with o_t = sum_{j in S_t} A_tj v_j / sum_{j in S_t} A_tj, the softmax over
// S_t alone; rows whose S_t is every visible key keep the variant's own output bit for bit, so a
// full budget is exactly dense. Later layers see the sparse outputs, so errors compound as they
// would in deployment. Phase schedules, with T_p the prefill length (one teacher-forced pass
// computes what a prefill of T_p tokens followed by token-by-token decoding computes):
//   prefill  rows t < T_p sparse (estimates read only the prefill), rows >= T_p dense
//   decode   rows t < T_p dense, rows t >= T_p sparse, each selected as a decoder would
//            (HeadView::causal: nothing after t is read; vertical-slash indices come from the
//            last prefill queries)
//   kv       rows < T_p dense; the keys the pattern keeps for row T_p - 1 are the compressed
//            cache: every row t >= T_p sees those keys plus T_p..t (SnapKV-style compression)
#include <memory>
#include <string>
#include <vector>

#include "analysis/ablation.h"
#include "analysis/sparse/budget.h"
#include "analysis/sparse/channel_calibration.h"
#include "analysis/sparse/selector.h"
#include "core/model/observer.h"

namespace attnlab {

enum class SparsePhase { prefill, decode, kv };
SparsePhase parse_sparse_phase(const std::string& s);  // "prefill" | "decode" | "kv"
std::string sparse_phase_name(SparsePhase p);

// "all", "L2" (every head of layer 2) or a head list "L0H1,L2H3" (analysis/ablation.h).
std::vector<HeadRef> parse_head_selection(const std::string& s, int n_layers, int n_heads);

class SparseReplacement : public ForwardObserver {
 public:
  // budget may be null (the spec's own size). prefill = T_p >= 1.
  SparseReplacement(const std::string& spec, const Budget* budget, SparsePhase phase, int prefill,
                    std::vector<HeadRef> heads, int n_layers, int n_heads);
  void set_calibration(const ChannelCalibration* c) { calibration_ = c; }
  void set_prefill(int prefill);

  void on_attention(const LayerAttentionView& view) override;
  void on_head_outputs(int layer, const AttnShape& shape, float* out) override;

  // Over the sparse rows of the replaced heads since construction (or reset()): sum |S_t| /
  // sum n_t, and the rows counted.
  double density() const { return visible_ > 0 ? selected_ / visible_ : 1.0; }
  int64_t sparse_rows() const { return rows_; }
  void reset_counts() { selected_ = visible_ = 0, rows_ = 0; }
  std::string label() const { return selector_->label(); }
  const std::vector<HeadRef>& heads() const { return heads_; }

 private:
  std::unique_ptr<SparseSelector> selector_;
  SparsePhase phase_;
  int prefill_;
  std::vector<HeadRef> heads_;
  int L_, H_;
  const ChannelCalibration* calibration_ = nullptr;
  LayerAttentionView view_;
  double selected_ = 0, visible_ = 0;
  int64_t rows_ = 0;
};

}  // namespace attnlab
