#include "analysis/sparse/row_recall.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include "analysis/sparse/rank_key.h"

namespace attnlab {

namespace {

using ConstVec = Eigen::Map<const Eigen::VectorXd>;
using Vec = Eigen::Map<Eigen::VectorXd>;
using ConstRows =
    Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// o[d0 .. d0 + W) = sum over keys of a_j v_j[d0 .. d0 + W), in key order. The W sums stay in
// registers across keys: accumulating into memory chains every key's stores to the next one's
// loads.
template <int W>
void weighted_sum(const std::vector<int>& keys, const float* row, const double* v, int Dh, int d0,
                  double* o) {
  double acc[W] = {};
  for (int j : keys) {
    const double a = row[j];
    const double* vj = v + int64_t(j) * Dh + d0;
#pragma GCC unroll 32
    for (int d = 0; d < W; ++d) acc[d] += a * vj[d];
  }
  for (int d = 0; d < W; ++d) o[d0 + d] = acc[d];
}

}  // namespace

void RowRanker::set(int t, const float* row, const KeyMask& mask, const double* v, int Dh,
                    int max_selected) {
  t_ = t;
  row_ = row;
  v_ = v;
  Dh_ = Dh;
  // Ranked by rank_key: larger weight first, ties to the earlier key, a strict total order, so
  // the top m are exactly the first m of a stable sort by weight.
  order_.clear();
  for (int j = 0; j <= t; ++j)
    if (mask.visible(t, j)) order_.push_back(rank_key(row[j], j));
  n_visible_ = int(order_.size());
  ranked_ = std::clamp(max_selected, 0, n_visible_);
  const auto heavier = std::greater<uint64_t>();
  if (ranked_ > 0 && ranked_ < n_visible_) {
    const uint64_t kth = kth_largest(order_.data(), order_.size(), size_t(ranked_));
    std::partition(order_.begin(), order_.end(), [&](uint64_t x) { return x >= kth; });
  }
  std::sort(order_.begin(), order_.begin() + ranked_, heavier);
  rank_.assign(size_t(t) + 1, -1);
  prefix_.assign(size_t(ranked_) + 1, 0.0);
  for (int r = 0; r < ranked_; ++r) {
    const int j = rank_key_index(order_[size_t(r)]);
    rank_[size_t(j)] = r;
    prefix_[size_t(r) + 1] = prefix_[size_t(r)] + row[j];
  }
  // o = V^T A_t: hidden keys are exact zeros, so the whole prefix 0..t can enter the product.
  row_d_.resize(size_t(t) + 1);
  for (int j = 0; j <= t; ++j) row_d_[size_t(j)] = row[j];
  out_.resize(size_t(Dh));
  Vec(out_.data(), Dh).noalias() =
      ConstRows(v, t + 1, Dh).transpose() * ConstVec(row_d_.data(), t + 1);
  out_norm_ = Vec(out_.data(), Dh).norm();
}

RowRecall RowRanker::measure(const std::vector<int>& keys) const {
  RowRecall r;
  r.t = t_;
  r.n_visible = n_visible_;
  const int m = std::min<int>(int(keys.size()), n_visible_);
  if (m > ranked_)
    throw std::logic_error("RowRanker::measure: a selection larger than set() was told");
  r.n_selected = m;
  int hits = 0;
  for (int j : keys) {
    r.recall += row_[j];
    hits += rank_[size_t(j)] >= 0 && rank_[size_t(j)] < m;
  }
  o_.resize(size_t(Dh_));
  int d0 = 0;
  for (; d0 + 32 <= Dh_; d0 += 32) weighted_sum<32>(keys, row_, v_, Dh_, d0, o_.data());
  for (; d0 + 8 <= Dh_; d0 += 8) weighted_sum<8>(keys, row_, v_, Dh_, d0, o_.data());
  for (; d0 < Dh_; ++d0) weighted_sum<1>(keys, row_, v_, Dh_, d0, o_.data());
  Vec o(o_.data(), Dh_);
  r.oracle = prefix_[size_t(m)];
  r.efficiency = r.oracle > 0 ? r.recall / r.oracle : 1.0;
  r.set_recall = m > 0 ? double(hits) / m : 1.0;
  if (r.recall > 0)
    o /= r.recall;
  else
    o.setZero();
  const double diff = (o - ConstVec(out_.data(), Dh_)).norm();
  r.out_abs_error = diff;
  r.out_error = out_norm_ > 0 ? diff / out_norm_
                : diff > 0    ? std::numeric_limits<double>::infinity()
                              : 0.0;
  return r;
}

}  // namespace attnlab
