#include "analysis/sparse/row_recall.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnlab {

void RowRanker::set(int t, const float* row, const KeyMask& mask, const float* v, int Dh) {
  t_ = t;
  row_ = row;
  v_ = v;
  Dh_ = Dh;
  order_.clear();
  for (int j = 0; j <= t; ++j)
    if (mask.visible(t, j)) order_.push_back(j);
  std::stable_sort(order_.begin(), order_.end(), [&](int a, int b) { return row[a] > row[b]; });
  rank_.assign(size_t(t) + 1, -1);
  prefix_.assign(order_.size() + 1, 0.0);
  for (size_t r = 0; r < order_.size(); ++r) {
    rank_[size_t(order_[r])] = int(r);
    prefix_[r + 1] = prefix_[r] + row[order_[r]];
  }
  out_.assign(size_t(Dh), 0.0);
  for (int j : order_)
    for (int d = 0; d < Dh; ++d) out_[size_t(d)] += double(row[j]) * v[int64_t(j) * Dh + d];
  out_norm_ = 0;
  for (double x : out_) out_norm_ += x * x;
  out_norm_ = std::sqrt(out_norm_);
}

RowRecall RowRanker::measure(const std::vector<int>& keys) const {
  RowRecall r;
  r.t = t_;
  r.n_visible = n_visible();
  const int m = std::min<int>(int(keys.size()), r.n_visible);
  r.n_selected = m;
  std::vector<double> o(size_t(Dh_), 0.0);
  int hits = 0;
  for (int j : keys) {
    r.recall += row_[j];
    hits += rank_[size_t(j)] >= 0 && rank_[size_t(j)] < m;
    for (int d = 0; d < Dh_; ++d) o[size_t(d)] += double(row_[j]) * v_[int64_t(j) * Dh_ + d];
  }
  r.oracle = prefix_[size_t(m)];
  r.efficiency = r.oracle > 0 ? r.recall / r.oracle : 1.0;
  r.set_recall = m > 0 ? double(hits) / m : 1.0;
  double diff = 0;
  for (int d = 0; d < Dh_; ++d) {
    const double os = r.recall > 0 ? o[size_t(d)] / r.recall : 0.0;
    diff += (os - out_[size_t(d)]) * (os - out_[size_t(d)]);
  }
  diff = std::sqrt(diff);
  r.out_abs_error = diff;
  r.out_error = out_norm_ > 0 ? diff / out_norm_
                : diff > 0    ? std::numeric_limits<double>::infinity()
                              : 0.0;
  return r;
}

}  // namespace attnlab
