#include "analysis/analyzer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>

#include "core/attention/attention.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

// Per-position means of sums accumulated over sequences (0 where none reached the position).
std::vector<double> position_means(const std::vector<double>& sum, const std::vector<int64_t>& n) {
  std::vector<double> m(sum.size());
  for (size_t i = 0; i < m.size(); ++i) m[i] = n[i] ? sum[i] / double(n[i]) : 0.0;
  return m;
}

// v[0] / mean(v[1..]): how far the first position stands out (value drain, residual peak).
// Needs at least two positions; 0 when the others are all 0.
double first_to_rest_ratio(const std::vector<double>& v) {
  double rest = 0;
  for (size_t i = 1; i < v.size(); ++i) rest += v[i];
  rest /= double(v.size() - 1);
  return rest > 0 ? v[0] / rest : 0.0;
}

// The k-th smallest |x_i| (0-based) without a copy of x: for non-negative floats the bit pattern
// orders as the value, so one histogram pass over the high 16 bits finds k's bucket and a second
// over the low bits within it finds the value. Exact; a T = 16K residual is 50 MB, and a sorted
// copy of it would be the analysis's largest buffer.
float kth_smallest_abs(const float* x, size_t n, size_t k) {
  auto bits = [&](size_t i) {
    uint32_t u;
    const float a = std::fabs(x[i]);
    std::memcpy(&u, &a, sizeof u);
    return u;
  };
  std::vector<uint64_t> count(1 << 16);
  for (size_t i = 0; i < n; ++i) ++count[bits(i) >> 16];
  uint32_t high = 0;
  while (k >= count[high]) k -= count[high++];
  std::fill(count.begin(), count.end(), 0);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t u = bits(i);
    if (u >> 16 == high) ++count[u & 0xffff];
  }
  uint32_t low = 0;
  while (k >= count[low]) k -= count[low++];
  const uint32_t u = high << 16 | low;
  float v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

}  // namespace

AttentionAnalyzer::AttentionAnalyzer(int n_layers, int n_heads, MetricOptions opt)
    : L_(n_layers), H_(n_heads), opt_(std::move(opt)) {
  if (n_layers < 1 || n_heads < 1) throw Error("AttentionAnalyzer: needs at least one layer and head");
  heads_.assign(size_t(L_) * H_, HeadStats(opt_));
  chance_.assign(size_t(L_), HeadStats(opt_));
  vnorm_sum_.resize(size_t(L_) * H_);
  vnorm_n_.resize(size_t(L_));
  resid_.resize(size_t(L_) + 1);
  specs_.resize(size_t(L_));
}

void AttentionAnalyzer::set_tokens(const int32_t* tokens, int B, int T, int max_rows) {
  seq_base_ += rows_ > 0 ? std::min(B_, rows_) : B_;
  tokens_ = tokens;
  B_ = B;
  T_ = T;
  rows_ = max_rows;
}

void AttentionAnalyzer::on_attention(const LayerAttentionView& view) {
  const AttnInputs& in = *view.inputs;
  const AttnShape& s = in.shape;
  if (view.layer < 0 || view.layer >= L_ || s.H != H_)
    throw Error("AttentionAnalyzer: built for " + std::to_string(L_) + " layers x " +
                std::to_string(H_) + " heads, got layer " + std::to_string(view.layer) + " with " +
                std::to_string(s.H) + " heads");
  if (tokens_ && (s.B != B_ || s.T != T_))
    throw Error("AttentionAnalyzer: set_tokens() was given [" + std::to_string(B_) + ", " +
                std::to_string(T_) + "] but the forward runs [" + std::to_string(s.B) + ", " +
                std::to_string(s.T) + "]");
  const std::string spec = view.attention->spec();
  specs_[size_t(view.layer)] = spec;
  KeyMask mask = KeyMask::from_spec(spec);
  mask.prepare(s.T);
  const bool normalized = view.attention->normalized_rows();
  const int B = rows_ >= 0 ? std::min(s.B, rows_) : s.B;
  std::vector<int64_t>& vn = vnorm_n_[size_t(view.layer)];
  if (vn.size() < size_t(s.T)) vn.resize(size_t(s.T), 0);
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < s.T; ++t) ++vn[size_t(t)];
    HeadStats& chance = chance_[size_t(view.layer)];
    chance.begin_sequence(tokens_ ? tokens_ + int64_t(b) * s.T : nullptr, s.T, mask, true);
    for (int t = 0; t < s.T; ++t) chance.add_uniform_row(t);
    chance.end_sequence();
    // Each head's statistics are its own, so heads run in parallel (pattern() is const).
    std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic)
    for (int h = 0; h < H_; ++h) {
      try {
        const size_t k = size_t(view.layer) * H_ + h;
        HeadStats& hs = heads_[k];
        hs.begin_sequence(tokens_ ? tokens_ + int64_t(b) * s.T : nullptr, s.T, mask, normalized);
        view.attention->pattern(in, b, h, [&](int t, const float* row) { hs.add_row(t, row); });
        hs.end_sequence();
        // Value-state norms ||v_t|| (Guo et al. value drain, REFERENCE 1.4).
        std::vector<double>& vs = vnorm_sum_[k];
        if (vs.size() < size_t(s.T)) vs.resize(size_t(s.T), 0.0);
        const float* v = in.v + (int64_t(b) * s.H + h) * s.head_size();
        for (int t = 0; t < s.T; ++t) {
          double n2 = 0;
          for (int d = 0; d < s.Dh; ++d) n2 += double(v[int64_t(t) * s.Dh + d]) * v[int64_t(t) * s.Dh + d];
          vs[size_t(t)] += std::sqrt(n2);
        }
      } catch (...) {
#pragma omp critical(analyzer_failure)
        if (!failure) failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
  }
}

void AttentionAnalyzer::on_residual(int layer, const Tensor& h) {
  if (layer < -1 || layer >= L_ || h.rank() != 3) return;
  LayerResidualStats& r = resid_[size_t(layer + 1)];
  const int B = int(h.dim(0)), T = int(h.dim(1)), D = int(h.dim(2));
  const int nb = rows_ >= 0 ? std::min(B, rows_) : B;
  if (r.norm_sum.size() < size_t(T)) {
    r.norm_sum.resize(size_t(T), 0.0);
    r.norm_n.resize(size_t(T), 0);
  }
  for (int b = 0; b < nb; ++b) {
    const float* x = h.ptr() + int64_t(b) * T * D;
    for (int t = 0; t < T; ++t) {
      double n2 = 0;
      for (int d = 0; d < D; ++d) {
        const float a = std::fabs(x[int64_t(t) * D + d]);
        n2 += double(a) * a;
        // Keep the three largest |h| seen (ties keep the earlier entry).
        if (a > r.top[2].value) {
          MassiveEntry e{a, int(seq_base_ + b), t, d};
          int i = 2;
          while (i > 0 && a > r.top[i - 1].value) {
            r.top[i] = r.top[i - 1];
            --i;
          }
          r.top[i] = e;
        }
      }
      r.norm_sum[size_t(t)] += std::sqrt(n2);
      ++r.norm_n[size_t(t)];
    }
    const size_t m = size_t(T) * D;
    double median = kth_smallest_abs(x, m, m / 2);
    if (m % 2 == 0) median = 0.5 * (median + kth_smallest_abs(x, m, m / 2 - 1));
    r.median_sum += median;
    ++r.sequences;
    for (size_t i = 0; i < m; ++i) {
      const float a = std::fabs(x[i]);
      r.massive += a > 100.0f && a >= 1000.0 * median;
    }
  }
}

double sink_k_percent(const HeadTable& t, int k) {
  double sum = 0;
  for (int l = 0; l < t.n_layers(); ++l)
    for (int h = 0; h < t.n_heads(); ++h) {
      const std::vector<double>& f = t.head_vector("sink_frac", l, h);
      if (k < 1 || size_t(k) > f.size())
        throw Error("Sink_k: k = " + std::to_string(k) + " is outside the analysed positions 1.." + std::to_string(f.size()));
      sum += f[size_t(k - 1)];
    }
  return 100.0 * sum / double(t.n_layers() * t.n_heads());
}

void set_attention_meta(HeadTable& t, const std::vector<std::string>& specs, double sink_eps) {
  std::string joined;
  for (size_t l = 0; l < specs.size(); ++l) joined += (l ? ";" : "") + specs[l];
  t.set_meta("attention", joined);
  char eps[32];
  std::snprintf(eps, sizeof eps, "%g", sink_eps);
  t.set_meta("sink_eps", eps);
}

void set_sink_k_scalars(HeadTable& t) {
  size_t reach = 10;
  for (int l = 0; l < t.n_layers(); ++l)
    for (int h = 0; h < t.n_heads(); ++h) reach = std::min(reach, t.head_vector("sink_frac", l, h).size());
  for (size_t k = 1; k <= reach; ++k) t.set_scalar("sink_k" + std::to_string(k) + "_pct", sink_k_percent(t, int(k)));
}

const HeadStats& AttentionAnalyzer::head(int layer, int head) const {
  if (layer < 0 || layer >= L_ || head < 0 || head >= H_)
    throw Error("AttentionAnalyzer: no head L" + std::to_string(layer) + "H" + std::to_string(head));
  return heads_[size_t(layer) * H_ + head];
}

std::vector<std::pair<std::string, double>> head_metric_values(const HeadSummary& s, const MetricOptions& opt) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::pair<std::string, double>> v = {
      {"alpha1", s.alpha.empty() ? nan : s.alpha[0]},
      {"alpha1_visible", s.alpha_visible.empty() ? nan : s.alpha_visible[0]},
      {"sink1_frac", s.sink_frac.empty() ? nan : s.sink_frac[0]},
      {"sink_mass", s.sink_mass},
      {"sink_mass_raw", s.sink_mass_raw},
      {"entropy", s.entropy},
      {"norm_entropy", s.norm_entropy},
      {"cover_mean", s.coverage_mean},
      {"cover_median", s.coverage_median},
      {"span_growth", s.span_growth},
      {"gini", s.gini},
      {"gini_free", s.gini_free},
      {"hoyer", s.hoyer},
      {"zero_frac", s.zero_frac}};
  for (size_t i = 0; i < opt.taus.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "below_%g", opt.taus[i]);
    v.push_back({name, s.below_frac[i]});
  }
  v.insert(v.end(), {{"prev_token", s.prev_token},
                     {"prefix_matching", s.prefix_matching},
                     {"echo", s.echo},
                     {"tl_induction", s.tl_induction},
                     {"tl_duplicate", s.tl_duplicate},
                     {"row_mass", s.row_mass},
                     {"empty_row_frac", s.empty_row_frac},
                     {"row_mass_p10", s.row_mass_p10},
                     {"row_mass_p50", s.row_mass_p50},
                     {"row_mass_p90", s.row_mass_p90}});
  return v;
}

bool has_chance_level(const std::string& metric) {
  return metric != "row_mass" && metric != "empty_row_frac" && metric.rfind("row_mass_p", 0) != 0;
}

void note_chance_above_threshold(HeadTable& t, double sink_eps) {
  if (!t.has_chance("alpha1")) return;
  std::string layers;
  for (int l = 0; l < t.n_layers(); ++l) {
    const double c = t.chance("alpha1", l, 0);
    if (!(c > sink_eps)) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%sL%d (%.3g)", layers.empty() ? "" : ", ", l, c);
    layers += buf;
  }
  if (!layers.empty())
    t.set_meta("sink_chance_warning", "uniform attention already gives alpha_1 > eps in " + layers +
                                          ": a Sink flag there does not show a sink; use a longer T");
}

namespace {

// Sink_k^eps in % with its interval over sequences: per sequence, the fraction of heads whose
// alpha_k > eps (Gu et al.'s indicator), then the mean and t-interval over sequences.
SequenceMean sink_k_over_sequences(const std::vector<const HeadStats*>& heads, int k, double eps) {
  SequenceMean m;
  const size_t n_seq = heads.front()->first_alphas().size() / HeadStats::kFirstKeys;
  for (size_t i = 0; i < n_seq; ++i) {
    double above = 0;
    for (const HeadStats* h : heads) above += h->first_alphas()[i * HeadStats::kFirstKeys + size_t(k)] > eps;
    m.add_sequence(100.0 * above / double(heads.size()));
  }
  return m;
}

}  // namespace

void set_chance_levels(HeadTable& t, const std::vector<HeadStats>& chance, const MetricOptions& opt) {
  if (int(chance.size()) != t.n_layers()) throw Error("set_chance_levels: one uniform pass per layer needed");
  if (chance.front().first_alphas().empty()) return;  // nothing analysed
  std::vector<const HeadStats*> per_head;
  for (int l = 0; l < t.n_layers(); ++l) {
    const HeadSummary c = chance[size_t(l)].summary();
    for (const auto& [name, value] : head_metric_values(c, opt))
      if (t.has(name) && has_chance_level(name))
        for (int h = 0; h < t.n_heads(); ++h) t.set_chance(name, l, h, value);
    for (int h = 0; h < t.n_heads(); ++h) {
      t.set_head_vector("alpha_chance", l, h, c.alpha);
      per_head.push_back(&chance[size_t(l)]);
    }
  }
  for (int k = 1; k <= HeadStats::kFirstKeys; ++k) {
    const std::string name = "sink_k" + std::to_string(k) + "_pct";
    if (t.has_scalar(name)) t.set_scalar(name + "_chance", sink_k_over_sequences(per_head, k - 1, opt.sink_eps).mean());
  }
  note_chance_above_threshold(t, opt.sink_eps);
}

HeadTable AttentionAnalyzer::table() const {
  HeadTable t(L_, H_);
  for (int l = 0; l < L_; ++l)
    for (int h = 0; h < H_; ++h) {
      const size_t k = size_t(l) * H_ + h;
      HeadSummary s = heads_[k].summary();
      for (const auto& [name, value] : head_metric_values(s, opt_)) {
        t.set(name, l, h, value);
        if (auto ci = s.ci95.find(name); ci != s.ci95.end()) t.set_ci95(name, l, h, ci->second);
      }
      std::vector<double> vn = position_means(vnorm_sum_[k], vnorm_n_[size_t(l)]);
      t.set("value_norm1", l, h, vn.empty() ? 0.0 : vn[0]);
      // Value drain: the first position's ||v|| relative to the mean of the others.
      if (vn.size() > 1) t.set("value_norm1_ratio", l, h, first_to_rest_ratio(vn));
      t.set_head_vector("alpha", l, h, s.alpha);
      t.set_head_vector("alpha_visible", l, h, s.alpha_visible);
      t.set_head_vector("sink_frac", l, h, s.sink_frac);
      t.set_head_vector("value_norm", l, h, std::move(vn));
    }
  set_sink_k_scalars(t);
  if (!heads_.front().first_alphas().empty()) {
    std::vector<const HeadStats*> heads;
    for (const HeadStats& h : heads_) heads.push_back(&h);
    for (int k = 1; k <= HeadStats::kFirstKeys; ++k) {
      const std::string name = "sink_k" + std::to_string(k) + "_pct";
      if (t.has_scalar(name)) t.set_scalar(name + "_ci95", sink_k_over_sequences(heads, k - 1, opt_.sink_eps).ci95());
    }
  }
  set_chance_levels(t, chance_, opt_);
  for (int l = -1; l < L_; ++l) {
    const LayerResidualStats& r = resid_[size_t(l + 1)];
    if (r.sequences == 0) continue;
    std::vector<double> norms = position_means(r.norm_sum, r.norm_n);
    const double median = r.median_sum / double(r.sequences);
    t.set_layer_value("resid_top1", l, r.top[0].value);
    t.set_layer_value("resid_top2", l, r.top[1].value);
    t.set_layer_value("resid_top3", l, r.top[2].value);
    t.set_layer_value("resid_median", l, median);
    t.set_layer_value("resid_top1_pos", l, r.top[0].pos);
    t.set_layer_value("resid_top1_dim", l, r.top[0].dim);
    t.set_layer_value("massive_count", l, double(r.massive));
    // Residual-state peak (Guo et al.; Gu et al. Fig. 8): ||h_1|| / mean_{t>1} ||h_t||.
    if (norms.size() > 1) t.set_layer_value("resid_norm1_ratio", l, first_to_rest_ratio(norms));
    t.set_layer_vector("resid_norm", l, std::move(norms));
  }
  set_attention_meta(t, specs_, opt_.sink_eps);
  return t;
}

}  // namespace attnlab
