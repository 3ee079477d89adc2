#include "analysis/head_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "analysis/row_metrics.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

// The q-quantile of pooled values (nearest rank on a copy); NaN for none.
double quantile(std::vector<float> v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const size_t i = std::min(v.size() - 1, size_t(q * double(v.size())));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

// Row scratch, one set per thread rather than per head: at T = 16K, 144 heads would hold
// 16 bytes x T each between their rows.
struct RowScratch {
  std::vector<float> vis, cover;
  std::vector<uint32_t> gini;
};
RowScratch& row_scratch() {
  thread_local RowScratch s;
  return s;
}

}  // namespace

double pooled_median(std::vector<float> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const size_t m = v.size();
  std::nth_element(v.begin(), v.begin() + m / 2, v.end());
  const double hi = v[m / 2];
  if (m % 2) return hi;
  return 0.5 * (double(*std::max_element(v.begin(), v.begin() + m / 2)) + hi);
}

HeadStats::HeadStats(MetricOptions opt) : opt_(std::move(opt)), below_(opt_.taus.size()) {}

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
  if (alpha_sum_.size() < size_t(T)) {
    alpha_sum_.resize(size_t(T), 0.0);
    alpha_vis_sum_.resize(size_t(T), 0.0);
    sink_count_.resize(size_t(T), 0);
  }
}

void HeadStats::add_row(int t, const float* row) {
  if (t < 0 || t >= T_) throw Error("HeadStats: row " + std::to_string(t) + " outside the sequence");
  // Gather the visible keys; keep a full-length copy (masked keys 0) for position lookups.
  const int n = mask_.visible_count(t);
  std::vector<float>& vis = row_scratch().vis;
  vis.resize(size_t(t) + 1 + size_t(n));
  float* full = vis.data();
  float* v = full + t + 1;
  int m = 0;
  for (int j = 0; j <= t; ++j) {
    full[j] = mask_.visible(t, j) ? row[j] : 0.0f;
    if (mask_.visible(t, j)) v[m++] = row[j];
  }
  add_visible(t, full, v, n);
}

void HeadStats::add_uniform_row(int t) {
  if (t < 0 || t >= T_) throw Error("HeadStats: row " + std::to_string(t) + " outside the sequence");
  const int n = mask_.visible_count(t);
  std::vector<float>& vis = row_scratch().vis;
  vis.resize(size_t(t) + 1 + size_t(n));
  float* full = vis.data();
  float* v = full + t + 1;
  for (int j = 0; j <= t; ++j) full[j] = mask_.visible(t, j) ? 1.0f / float(n) : 0.0f;
  std::fill(v, v + n, 1.0f / float(n));
  add_visible(t, full, v, n);
}

void HeadStats::add_visible(int t, float* full, float* v, int n) {
  double mass = 0, abs_mass = 0;
  sink_mass_raw_.add(full[0]);  // before proxy normalization rewrites the row
  for (int j = 0; j < n; ++j) abs_mass += std::fabs(v[j]);
  if (!normalized_) {
    mass = proxy_normalize(v, n);
    int m = 0;
    for (int j = 0; j <= t; ++j) full[j] = mask_.visible(t, j) ? v[m++] : 0.0f;
  } else {
    for (int j = 0; j < n; ++j) mass += v[j];
  }
  // A row with no visible mass has no distribution: it enters the position metrics below as the
  // zeros it holds, but not entropy, coverage, Gini, Hoyer or the zero counts.
  const bool empty = abs_mass == 0.0;
  ++rows_;
  row_mass_.add(mass);
  row_mass_values_.push_back(float(mass));
  empty_.add(empty ? 1.0 : 0.0);
  for (int j = 0; j <= t; ++j) col_sum_[size_t(j)] += full[j];
  sink_mass_.add(full[0]);
  if (t >= 1) prev_.add(full[t - 1]);
  if (!empty) {
    const double ent = row_entropy(v, n);
    ent_.add(ent);
    zeros_.add(count_exact_zero(v, n), n);
    for (size_t i = 0; i < opt_.taus.size(); ++i) below_[i].add(count_below_uniform(v, n, opt_.taus[i]), n);
    if (n >= 2) {
      nent_.add(ent / std::log(double(n)));
      const int k = coverage_k(v, n, opt_.cover_p, row_scratch().cover);
      const double cov = double(k) / n;
      cov_.add(cov);
      if (n >= std::max(2, T_ / 8)) {
        const double x = std::log(double(n)), y = std::log(double(k));
        span_n_ += 1, span_x_ += x, span_y_ += y, span_xx_ += x * x, span_xy_ += x * y;
      }
      cov_values_.push_back(float(cov));
      const GiniStats g = row_gini(v, n, row_scratch().gini);
      gini_.add(g.gini);
      gini_free_.add(g.gini_free);
      hoyer_.add(hoyer(v, n));
    }
  }
  if (!tokens_) return;
  const int32_t x = tokens_[t];
  double dup = 0, ind = 0, total = 0;
  bool any_dup = false;
  for (int j = 0; j <= t; ++j) total += full[j];
  for (int j = 0; j < t; ++j) {
    if (tokens_[j] != x) continue;
    // Key j holds x_t (duplicate / echo); key j + 1 follows an earlier x_t (induction).
    dup += full[j];
    any_dup = true;
    ind += full[j + 1];
  }
  tl_dup_.add(dup, total);
  tl_ind_.add(ind, total);
  if (any_dup) echo_.add(dup);
  if (double pre; row_prefix_matching(full, tokens_, t, pre)) prefix_.add(pre);
}

void HeadStats::end_sequence() {
  for (int k = 0; k < T_; ++k) {
    const double col = col_sum_[size_t(k)];
    const double alpha = col / double(T_ - k);
    const int seen_by = mask_.queries_seeing(k, T_);
    const double alpha_vis = seen_by > 0 ? col / seen_by : 0.0;
    alpha_sum_[size_t(k)] += alpha;
    alpha_vis_sum_[size_t(k)] += alpha_vis;
    sink_count_[size_t(k)] += alpha > opt_.sink_eps ? 1 : 0;
  }
  ++sequences_of_length_[T_];
  for (int k = 0; k < kFirstKeys; ++k)
    first_alpha_.push_back(k < T_ ? float(col_sum_[size_t(k)] / double(T_ - k)) : std::numeric_limits<float>::quiet_NaN());
  alpha0_.add_sequence(col_sum_[0] / double(T_));
  alpha0_vis_.add_sequence(col_sum_[0] / std::max(1, mask_.queries_seeing(0, T_)));
  sink0_.add_sequence(col_sum_[0] / double(T_) > opt_.sink_eps ? 1.0 : 0.0);
  const double sxx = span_xx_ - span_x_ * span_x_ / std::max(1.0, span_n_);
  if (span_n_ >= 3 && sxx > 1e-9)
    span_.add_sequence((span_xy_ - span_x_ * span_y_ / span_n_) / sxx);
  span_n_ = span_x_ = span_y_ = span_xx_ = span_xy_ = 0;
  for (SequenceMean* m : {&sink_mass_, &sink_mass_raw_, &ent_, &nent_, &cov_, &gini_, &gini_free_, &hoyer_, &prev_, &row_mass_,
                          &empty_, &zeros_, &tl_dup_, &tl_ind_, &prefix_, &echo_})
    m->end_sequence();
  for (SequenceMean& m : below_) m.end_sequence();
  ++sequences_;
  std::vector<double>().swap(col_sum_);
  T_ = 0;
  tokens_ = nullptr;
}

HeadSummary HeadStats::summary() const {
  HeadSummary s;
  auto mean = [](double sum, int64_t n) { return n > 0 ? sum / double(n) : 0.0; };
  // seen[k]: the sequences longer than k, i.e. those that had a position k.
  std::vector<int64_t> seen(alpha_sum_.size() + 1, 0);
  for (const auto& [T, n] : sequences_of_length_) seen[size_t(T) - 1] += n;
  for (size_t k = seen.size() - 1; k-- > 0;) seen[k] += seen[k + 1];
  s.alpha.resize(alpha_sum_.size());
  s.alpha_visible.resize(alpha_sum_.size());
  s.sink_frac.resize(alpha_sum_.size());
  for (size_t k = 0; k < alpha_sum_.size(); ++k) {
    s.alpha[k] = mean(alpha_sum_[k], seen[k]);
    s.alpha_visible[k] = mean(alpha_vis_sum_[k], seen[k]);
    s.sink_frac[k] = mean(sink_count_[k], seen[k]);
  }
  auto take = [&](const std::string& name, const SequenceMean& m) {
    s.ci95[name] = m.ci95();
    return m.mean();
  };
  take("alpha1", alpha0_);
  take("alpha1_visible", alpha0_vis_);
  take("sink1_frac", sink0_);
  s.sink_mass = take("sink_mass", sink_mass_);
  s.sink_mass_raw = take("sink_mass_raw", sink_mass_raw_);
  s.entropy = take("entropy", ent_);
  s.norm_entropy = take("norm_entropy", nent_);
  s.coverage_mean = take("cover_mean", cov_);
  s.coverage_median = pooled_median(cov_values_);
  s.span_growth = take("span_growth", span_);
  s.gini = take("gini", gini_);
  s.gini_free = take("gini_free", gini_free_);
  s.hoyer = take("hoyer", hoyer_);
  s.zero_frac = take("zero_frac", zeros_);
  for (size_t i = 0; i < opt_.taus.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "below_%g", opt_.taus[i]);
    s.below_frac.push_back(take(name, below_[i]));
  }
  s.prev_token = take("prev_token", prev_);
  s.tl_duplicate = take("tl_duplicate", tl_dup_);
  s.tl_induction = take("tl_induction", tl_ind_);
  s.prefix_matching = take("prefix_matching", prefix_);
  s.echo = take("echo", echo_);
  s.row_mass = take("row_mass", row_mass_);
  s.empty_row_frac = take("empty_row_frac", empty_);
  s.row_mass_p10 = quantile(row_mass_values_, 0.1);
  s.row_mass_p50 = quantile(row_mass_values_, 0.5);
  s.row_mass_p90 = quantile(row_mass_values_, 0.9);
  s.rows = rows_;
  s.sequences = sequences_;
  return s;
}

}  // namespace attnlab
