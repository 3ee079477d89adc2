#include "analysis/head_stats.h"

#include <algorithm>
#include <cmath>

#include "analysis/row_metrics.h"
#include "core/tensor/error.h"

namespace attnlab {

void HeadStats::begin_sequence(const int32_t* tokens, int T, const KeyMask& mask,
                               bool normalized_rows) {
  if (T < 1) throw Error("HeadStats: a sequence needs at least one position");
  tokens_ = tokens;
  T_ = T;
  mask_ = mask;
  mask_.prepare(T);
  normalized_ = normalized_rows;
  col_sum_.assign(size_t(T), 0.0);
  seq_tl_dup_ = seq_tl_ind_ = seq_tl_den_ = 0;
  seq_prefix_ = seq_echo_ = 0;
  seq_prefix_rows_ = seq_echo_rows_ = 0;
  if (alpha_sum_.size() < size_t(T)) {
    alpha_sum_.resize(size_t(T), 0.0);
    sink_count_.resize(size_t(T), 0.0);
    alpha_n_.resize(size_t(T), 0);
  }
}

void HeadStats::add_row(int t, const float* row) {
  if (t < 0 || t >= T_) throw Error("HeadStats: row " + std::to_string(t) + " outside the sequence");
  // Gather the visible keys; keep a full-length copy (masked keys 0) for position lookups.
  const int n = mask_.visible_count(t);
  vis_.resize(size_t(t) + 1 + size_t(n));
  float* full = vis_.data();
  float* v = full + t + 1;
  int m = 0;
  for (int j = 0; j <= t; ++j) {
    full[j] = mask_.visible(t, j) ? row[j] : 0.0f;
    if (mask_.visible(t, j)) v[m++] = row[j];
  }
  if (!normalized_) {
    row_mass_ += proxy_normalize(v, n);
    m = 0;
    for (int j = 0; j <= t; ++j) full[j] = mask_.visible(t, j) ? v[m++] : 0.0f;
  } else {
    double s = 0;
    for (int j = 0; j < n; ++j) s += v[j];
    row_mass_ += s;
  }
  ++rows_;
  for (int j = 0; j <= t; ++j) col_sum_[size_t(j)] += full[j];
  sink_mass_ += full[0];
  const double ent = row_entropy(v, n);
  ent_ += ent;
  entries_ += n;
  zeros_ += count_exact_zero(v, n);
  for (size_t i = 0; i < opt_.taus.size(); ++i) below_[i] += count_below_uniform(v, n, opt_.taus[i]);
  if (n >= 2) {
    ++rows2_;
    nent_ += ent / std::log(double(n));
    SortedRowStats s = sorted_row_stats(v, n, opt_.cover_p, scratch_);
    const double cov = double(s.coverage_k) / n;
    cov_ += cov;
    cov_values_.push_back(float(cov));
    gini_ += s.gini;
    gini_free_ += s.gini_free;
    hoyer_ += hoyer(v, n);
  }
  if (t >= 1) {
    prev_ += full[t - 1];
    ++prev_rows_;
  }
  if (!tokens_) return;
  const int32_t x = tokens_[t];
  double dup = 0, ind = 0, pre = 0, total = 0;
  bool any_dup = false, any_pre = false;
  for (int j = 0; j <= t; ++j) total += full[j];
  for (int j = 0; j < t; ++j) {
    if (tokens_[j] != x) continue;
    // Key j holds x_t (duplicate / echo); key j + 1 follows an earlier x_t (induction).
    dup += full[j];
    any_dup = true;
    ind += full[j + 1];
    if (j + 1 < t) {
      pre += full[j + 1];
      any_pre = true;
    }
  }
  seq_tl_dup_ += dup;
  seq_tl_ind_ += ind;
  seq_tl_den_ += total;
  if (any_dup) {
    seq_echo_ += dup;
    ++seq_echo_rows_;
  }
  if (any_pre) {
    seq_prefix_ += pre;
    ++seq_prefix_rows_;
  }
}

void HeadStats::end_sequence() {
  for (int k = 0; k < T_; ++k) {
    const int seen_by = mask_.queries_seeing(k, T_);
    const double alpha = seen_by > 0 ? col_sum_[size_t(k)] / seen_by : 0.0;
    alpha_sum_[size_t(k)] += alpha;
    sink_count_[size_t(k)] += alpha > opt_.sink_eps ? 1.0 : 0.0;
    ++alpha_n_[size_t(k)];
  }
  ++sequences_;
  if (tokens_) {
    if (seq_tl_den_ > 0) {
      tl_dup_ += seq_tl_dup_ / seq_tl_den_;
      tl_ind_ += seq_tl_ind_ / seq_tl_den_;
    }
    ++tl_seqs_;
    if (seq_prefix_rows_) {
      prefix_ += seq_prefix_ / double(seq_prefix_rows_);
      ++prefix_seqs_;
    }
    if (seq_echo_rows_) {
      echo_ += seq_echo_ / double(seq_echo_rows_);
      ++echo_seqs_;
    }
  }
  T_ = 0;
  tokens_ = nullptr;
}

HeadSummary HeadStats::summary() const {
  HeadSummary s;
  auto mean = [](double sum, int64_t n) { return n > 0 ? sum / double(n) : 0.0; };
  s.alpha.resize(alpha_sum_.size());
  s.sink_frac.resize(alpha_sum_.size());
  for (size_t k = 0; k < alpha_sum_.size(); ++k) {
    s.alpha[k] = mean(alpha_sum_[k], alpha_n_[k]);
    s.sink_frac[k] = mean(sink_count_[k], alpha_n_[k]);
  }
  s.sink_mass = mean(sink_mass_, rows_);
  s.entropy = mean(ent_, rows_);
  s.norm_entropy = mean(nent_, rows2_);
  s.coverage_mean = mean(cov_, rows2_);
  if (!cov_values_.empty()) {
    std::vector<float> c = cov_values_;
    const size_t m = c.size();
    std::nth_element(c.begin(), c.begin() + m / 2, c.end());
    double hi = c[m / 2];
    if (m % 2 == 0) {
      double lo = *std::max_element(c.begin(), c.begin() + m / 2);
      s.coverage_median = 0.5 * (lo + hi);
    } else {
      s.coverage_median = hi;
    }
  }
  s.gini = mean(gini_, rows2_);
  s.gini_free = mean(gini_free_, rows2_);
  s.hoyer = mean(hoyer_, rows2_);
  s.zero_frac = entries_ ? double(zeros_) / double(entries_) : 0.0;
  for (int64_t b : below_) s.below_frac.push_back(entries_ ? double(b) / double(entries_) : 0.0);
  s.prev_token = mean(prev_, prev_rows_);
  s.tl_duplicate = mean(tl_dup_, tl_seqs_);
  s.tl_induction = mean(tl_ind_, tl_seqs_);
  s.prefix_matching = mean(prefix_, prefix_seqs_);
  s.echo = mean(echo_, echo_seqs_);
  s.row_mass = mean(row_mass_, rows_);
  s.rows = rows_;
  s.sequences = sequences_;
  return s;
}

}  // namespace attnlab
