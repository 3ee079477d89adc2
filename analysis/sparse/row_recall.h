#pragma once
// Per-row recall metrics of a selected key set S_t (shared/SPARSE.md 1.1), from one normalized
// attention row A_t and the head's values:
//   recall      R_t = sum_{j in S} A_tj                                  (MInference's search
//   score) oracle      R*_t = the |S| largest A_tj summed (ties to the earlier key) efficiency  R_t
//   / R*_t (1 when both are 0) set_recall  |S intersect TopK_t(|S|)| / |S| (1 for an empty S)
//   out_error   ||o^S - o|| / ||o||, o = sum_j A_tj v_j, o^S = sum_{j in S} A_tj v_j / R_t
//               (o^S = 0 when R_t = 0; 0 when o = o^S = 0)
// RowRanker sorts the row once; every selection of that row is then measured in O(|S| Dh).
#include <vector>

#include "analysis/key_mask.h"

namespace attnlab {

struct RowRecall {
  int t = 0, n_visible = 0, n_selected = 0;
  double recall = 0, oracle = 0, efficiency = 1, set_recall = 1, out_error = 0;
  double out_abs_error = 0;  // ||o^S - o||, for the bound 2 (1 - R) max_j ||v_j||
};

class RowRanker {
 public:
  // row: A_t (length t + 1, hidden keys 0); v: the head's values [T, Dh].
  void set(int t, const float* row, const KeyMask& mask, const float* v, int Dh);
  // keys: S_t, visible keys of this row, no repeats.
  RowRecall measure(const std::vector<int>& keys) const;
  int n_visible() const { return int(prefix_.size()) - 1; }

 private:
  int t_ = 0, Dh_ = 0;
  const float* row_ = nullptr;
  const float* v_ = nullptr;
  std::vector<int> order_, rank_;
  std::vector<double> prefix_, out_;
  double out_norm_ = 0;
};

}  // namespace attnlab
