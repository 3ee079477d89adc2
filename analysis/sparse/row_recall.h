#pragma once
// Per-row recall metrics of a selected key set S_t (shared/SPARSE.md 1.1), from one normalized
// attention row A_t and the head's values:
//   recall      R_t = sum_{j in S} A_tj                                  (MInference's search
//   score) oracle      R*_t = the |S| largest A_tj summed (ties to the earlier key) efficiency  R_t
//   / R*_t (1 when both are 0) set_recall  |S intersect TopK_t(|S|)| / |S| (1 for an empty S)
//   out_error   ||o^S - o|| / ||o||, o = sum_j A_tj v_j, o^S = sum_{j in S} A_tj v_j / R_t
//               (o^S = 0 when R_t = 0; 0 when o = o^S = 0)
// RowRanker ranks the row once, only as deep as the largest selection of that row needs (a
// partial order, not a sort of all n_t keys); every selection is then measured in O(|S| Dh).
#include <cstdint>
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
  // row: A_t (length t + 1, hidden keys exactly 0); v: the head's values [T, Dh] in double
  // (converted once per head, so that every row's sums stay in double); max_selected: the
  // largest |S_t| that measure() will be given for this row.
  void set(int t, const float* row, const KeyMask& mask, const double* v, int Dh, int max_selected);
  // keys: S_t, visible keys of this row, no repeats, |S_t| <= max_selected.
  RowRecall measure(const std::vector<int>& keys) const;
  int n_visible() const { return n_visible_; }

 private:
  int t_ = 0, Dh_ = 0, n_visible_ = 0, ranked_ = 0;
  const float* row_ = nullptr;
  const double* v_ = nullptr;
  std::vector<uint64_t> order_;  // rank_key(A_tj, j) of the visible keys
  std::vector<int> rank_;        // rank of key j among the row's top `ranked_`, or -1
  std::vector<double> prefix_, out_, row_d_;
  mutable std::vector<double> o_;
  double out_norm_ = 0;
};

}  // namespace attnlab
