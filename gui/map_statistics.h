#pragma once
// What the map view shows beside the image — the colour scale's top, alpha_k per key and the
// normalized entropy per query — accumulated one row at a time, so the same definitions serve a
// materialized HeadPattern and a long prompt's head streamed without its T x T map.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "analysis/key_mask.h"

namespace attnlab::gui {

// The top of the colour scale: the 99.5th percentile of an evenly strided sample (about 200k)
// of the visible |weights| in row order, at least 5% of the largest (so the single-key first
// rows, weight 1, do not wash every other row out); 1 for an all-zero map.
class ScaleTopSampler {
 public:
  explicit ScaleTopSampler(int T);
  void add_row(int t, const float* row);  // keys 0..t
  double top();

 private:
  int64_t stride_, i_ = 0;
  float max_ = 0;
  std::vector<float> sample_;
};

// alpha_k: mean weight key k receives from the queries that see it: the column sum over the
// analysis library's masked divisor (KeyMask::queries_seeing, head_stats' alpha_visible), which
// is Gu et al.'s T - k under plain causal attention and stays right under window, block and
// dilated masks. `mask` must be prepared for T (KeyMask::prepare).
class KeyImportanceSums {
 public:
  explicit KeyImportanceSums(int T) : a_(size_t(T), 0.0) {}
  void add_row(int t, const float* row) {
    for (int j = 0; j <= t; ++j) a_[size_t(j)] += row[j];
  }
  std::vector<double> result(const KeyMask& mask = {}) const;

 private:
  std::vector<double> a_;
};

// Normalized entropy of row t (keys 0..t) of the proxy-normalized row |a|/m, divided by the
// log of the n_visible keys the query sees (t + 1 under plain causal attention); 0 when n <= 1.
double normalized_row_entropy(int t, const float* row, int n_visible);
inline double normalized_row_entropy(int t, const float* row) {
  return normalized_row_entropy(t, row, t + 1);
}

// All three over one stream of rows.
struct MapStatistics {
  explicit MapStatistics(int T, KeyMask m = {})
      : scale(T), alpha(T), entropy(size_t(T), 0.0), mask(std::move(m)) {
    mask.prepare(T);
  }
  void add_row(int t, const float* row) {
    scale.add_row(t, row);
    alpha.add_row(t, row);
    entropy[size_t(t)] = normalized_row_entropy(t, row, mask.visible_count(t));
  }
  ScaleTopSampler scale;
  KeyImportanceSums alpha;
  std::vector<double> entropy;
  KeyMask mask;
};

}  // namespace attnlab::gui
