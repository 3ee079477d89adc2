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
  if (ranked_ < n_visible_)
    std::nth_element(order_.begin(), order_.begin() + ranked_, order_.end(), heavier);
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
  o_.assign(size_t(Dh_), 0.0);
  Vec o(o_.data(), Dh_);
  int hits = 0;
  for (int j : keys) {
    const double a = row_[j];
    r.recall += a;
    hits += rank_[size_t(j)] >= 0 && rank_[size_t(j)] < m;
    o.noalias() += a * ConstVec(v_ + int64_t(j) * Dh_, Dh_);
  }
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
