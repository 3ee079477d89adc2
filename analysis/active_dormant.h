#pragma once
// Active-dormant heads on Bigram-Backcopy (Guo et al. 2024, REFERENCE.md 1.4 and R3). On BOS +
// text where a trigger character at t means "copy x_{t-1}", a head is active on trigger queries
// (attends to t-1) and dormant on the rest (dumps its mass on BOS, position 0), with a small BOS
// value (value-state drain) and a BOS score that grows above the others (mutual reinforcement).
// Per head, over queries t >= 1 (query 0 sees only BOS) of sequences whose first token is BOS:
//   bos_mass_nontrigger  mean A[t, 0] over queries whose token is not a trigger (dormant: -> 1)
//   bos_mass_trigger     mean A[t, 0] over trigger queries (active: -> 0)
//   prev_mass_trigger    mean A[t, t-1] over trigger queries (the copy)
//   bos_mass_contrast    bos_mass_nontrigger - bos_mass_trigger: one head both dormant and active
//   bos_value_ratio      ||v_0|| / mean_{j >= 1} ||v_j||, per sequence, averaged (drain: < 1)
//   bos_score_gap        s_{t,0} - mean_{1 <= j <= t} s_{t,j} with s = q.k / sqrt(Dh), the raw
//                        score before the variant's transform, averaged over queries t >= 1
// Rows of variants whose rows need not sum to 1 are proxy-normalized (row / row sum), as the
// analyzer does for alpha_1; a row with no mass at all (ReLU and softpick can give one) has no
// distribution and is left out, so a head whose every such row is empty has no value (NaN).
#include <vector>

#include "analysis/head_table.h"
#include "core/model/observer.h"

namespace attnlab {

class ActiveDormantStats : public ForwardObserver {
 public:
  // tokens [B, T] of the forward(s) to come; is_trigger[id] marks trigger tokens.
  ActiveDormantStats(int n_layers, int n_heads, std::vector<char> is_trigger);
  void set_tokens(const int32_t* tokens, int B, int T);

  void on_attention(const LayerAttentionView& view) override;

  // The six metrics above per head (NaN where a group had no query).
  HeadTable table() const;

 private:
  struct Acc {
    double bos_nt = 0, bos_tr = 0, prev_tr = 0, vratio = 0, gap = 0;
    int64_t n_nt = 0, n_tr = 0, n_seq = 0, n_gap = 0;
  };
  int L_, H_;
  std::vector<char> trigger_;
  const int32_t* tokens_ = nullptr;
  int B_ = 0, T_ = 0;
  std::vector<Acc> acc_;  // [L*H]
};

}  // namespace attnlab
