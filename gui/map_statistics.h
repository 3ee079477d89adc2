#pragma once
// What the map view shows beside the image — the colour scale's top, alpha_k per key and the
// normalized entropy per query — accumulated one row at a time, so the same definitions serve a
// materialized HeadPattern and a long prompt's head streamed without its T x T map.
#include <cstddef>
#include <cstdint>
#include <vector>

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

// alpha_k: mean weight key k receives from the queries that see it (Gu et al.).
class KeyImportanceSums {
 public:
  explicit KeyImportanceSums(int T) : a_(size_t(T), 0.0) {}
  void add_row(int t, const float* row) {
    for (int j = 0; j <= t; ++j) a_[size_t(j)] += row[j];
  }
  std::vector<double> result() const;

 private:
  std::vector<double> a_;
};

// Normalized entropy of row t (keys 0..t) of the proxy-normalized row |a|/m; 0 for t = 0.
double normalized_row_entropy(int t, const float* row);

// All three over one stream of rows.
struct MapStatistics {
  explicit MapStatistics(int T) : scale(T), alpha(T), entropy(size_t(T), 0.0) {}
  void add_row(int t, const float* row) {
    scale.add_row(t, row);
    alpha.add_row(t, row);
    entropy[size_t(t)] = normalized_row_entropy(t, row);
  }
  ScaleTopSampler scale;
  KeyImportanceSums alpha;
  std::vector<double> entropy;
};

}  // namespace attnlab::gui
