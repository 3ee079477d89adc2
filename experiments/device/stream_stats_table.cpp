#include "experiments/device/stream_stats_table.h"

#include "analysis/analyzer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "core/tensor/error.h"

namespace attnlab {

namespace {

// For each row t of one sequence: does some key j < t hold x_t (duplicate/echo rows), and does
// some key j in [1, t) follow an earlier x_t, i.e. x_{j-1} = x_t with j - 1 <= t - 2 (prefix-
// matching rows)? Both depend only on the tokens, so they are recomputed here rather than streamed.
void matching_rows(const int32_t* x, int T, std::vector<char>& has_dup, std::vector<char>& has_pre) {
  has_dup.assign(size_t(T), 0);
  has_pre.assign(size_t(T), 0);
  std::unordered_map<int32_t, int> first;
  first.reserve(size_t(T));
  for (int t = 0; t < T; ++t) {
    auto [it, fresh] = first.try_emplace(x[t], t);
    if (!fresh) {
      has_dup[size_t(t)] = 1;
      has_pre[size_t(t)] = it->second <= t - 2;
    }
  }
}

double mean(double sum, int64_t n) { return n > 0 ? sum / double(n) : 0.0; }

}  // namespace

const std::vector<std::string>& fused_unmeasured_metrics() {
  static const std::vector<std::string> names = {
      "gini", "gini_free", "hoyer", "zero_frac", "below_<tau>", "row_mass", "value_norm1", "value_norm1_ratio",
      "value_norm (vector)", "resid_* and massive_count (layer values)"};
  return names;
}

StreamStatsTable::StreamStatsTable(std::vector<std::string> specs, int n_heads, MetricOptions opt)
    : specs_(std::move(specs)), L_(int(specs_.size())), H_(n_heads), opt_(std::move(opt)) {
  if (L_ < 1 || H_ < 1) throw Error("StreamStatsTable: needs at least one layer and head");
  // k_0.9 is what the kernel streams; another coverage level cannot be derived from it.
  if (std::abs(opt_.cover_p - double(cuda::kCoverageP)) > 1e-6)
    throw Error("the fused GPU statistics measure coverage at p = 0.9 only (asked: " + std::to_string(opt_.cover_p) +
                "); use --device cpu for another level");
  for (const std::string& s : specs_) masks_.push_back(KeyMask::from_spec(s));
  heads_.assign(size_t(L_) * H_, Head{});
  chance_.assign(size_t(L_), HeadStats(opt_));
}

void StreamStatsTable::add(const std::vector<cuda::StreamStats>& stats, const int32_t* tokens, int B, int T) {
  if (int(stats.size()) != L_)
    throw Error("StreamStatsTable: got statistics of " + std::to_string(stats.size()) + " layers, expected " +
                std::to_string(L_));
  if (B < 1 || T < 1) throw Error("StreamStatsTable: empty batch");
  const size_t n = size_t(B) * H_ * T;
  for (const cuda::StreamStats& s : stats)
    if (s.col_mass.size() != n || s.entropy.size() != n || s.prev_token.size() != n || s.induction.size() != n ||
        s.duplicate.size() != n || s.cover.size() != n || s.topk_mass.size() != n * cuda::kTopKBudgets)
      throw Error("StreamStatsTable: statistics are not sized B x H x T = " + std::to_string(B) + " x " +
                  std::to_string(H_) + " x " + std::to_string(T));
  for (KeyMask& m : masks_) m.prepare(T);
  sequences_ += B;
  T_ = std::max(T_, T);
  std::vector<char> has_dup, has_pre;
  for (int b = 0; b < B; ++b) {
    const int32_t* x = tokens ? tokens + int64_t(b) * T : nullptr;
    if (x) {
      matching_rows(x, T, has_dup, has_pre);
      for (int t = 1; t < T; ++t) tl_induction_exact_ = tl_induction_exact_ && x[t - 1] != x[t];
    }
    for (int l = 0; l < L_; ++l) {
      HeadStats& c = chance_[size_t(l)];
      c.begin_sequence(x, T, masks_[size_t(l)], true);
      for (int t = 0; t < T; ++t) c.add_uniform_row(t);
      c.end_sequence();
    }
    for (int l = 0; l < L_; ++l)
      for (int h = 0; h < H_; ++h)
        add_head(heads_[size_t(l) * H_ + h], stats[size_t(l)], masks_[size_t(l)], b, h, H_, T, x, has_dup, has_pre);
  }
}

void StreamStatsTable::add_head(Head& a, const cuda::StreamStats& s, const KeyMask& mask, int b, int h, int H, int T,
                                const int32_t* x, const std::vector<char>& has_dup, const std::vector<char>& has_pre) {
  const size_t base = (size_t(b) * H + h) * T;
  if (a.alpha_sum.size() < size_t(T)) {
    a.alpha_sum.resize(size_t(T), 0.0);
    a.sink_count.resize(size_t(T), 0.0);
    a.alpha_n.resize(size_t(T), 0);
  }
  // Gu et al. alpha_k per sequence, as analysis/head_stats.cpp: column mass over T - k (0-based
  // k) under every mask.
  double total = 0;  // sum of every row's mass: TransformerLens's sum(A)
  for (int k = 0; k < T; ++k) {
    const double col = s.col_mass[base + k];
    total += col;
    const double alpha = col / double(T - k);
    a.alpha_sum[size_t(k)] += alpha;
    a.sink_count[size_t(k)] += alpha > opt_.sink_eps ? 1.0 : 0.0;
    ++a.alpha_n[size_t(k)];
  }
  a.sink_mass += s.col_mass[base];  // sum over rows of A[t, 0]
  a.rows += T;
  double dup = 0, ind = 0, pre = 0, echo = 0;
  int64_t pre_rows = 0, echo_rows = 0;
  for (int t = 0; t < T; ++t) {
    const size_t i = base + t;
    const int nt = mask.visible_count(t);
    a.ent += s.entropy[i];
    for (int q = 0; q < cuda::kTopKBudgets; ++q) a.topk[q] += s.topk_mass[i * cuda::kTopKBudgets + q];
    if (nt >= 2) {
      ++a.rows2;
      a.nent += s.entropy[i] / std::log(double(nt));
      // k_0.9 as FlexPrefill counts it, capped at n_t like the CPU's; censored rows (more than
      // 32 keys needed) count 33 keys, so the coverage numbers are lower bounds there.
      const float k = s.cover[i];
      if (k >= float(cuda::kCoverageCensored)) ++a.censored;
      const double cov = std::min(double(k), double(nt)) / nt;
      a.cov += cov;
      a.cov_values.push_back(float(cov));
    }
    if (t >= 1) {
      a.prev += s.prev_token[i];
      ++a.prev_rows;
    }
    if (!x) continue;
    dup += s.duplicate[i];
    ind += s.induction[i];
    if (has_dup[size_t(t)]) {
      echo += s.duplicate[i];
      ++echo_rows;
    }
    if (has_pre[size_t(t)]) {
      pre += s.induction[i];
      ++pre_rows;
    }
  }
  ++a.sequences;
  if (!x) return;
  if (total > 0) {
    a.tl_dup += dup / total;
    a.tl_ind += ind / total;  // exact unless x_{t-1} = x_t somewhere (see table())
  }
  ++a.tl_seqs;
  if (pre_rows) {
    a.prefix += pre / double(pre_rows);
    ++a.prefix_seqs;
  }
  if (echo_rows) {
    a.echo += echo / double(echo_rows);
    ++a.echo_seqs;
  }
}

HeadTable StreamStatsTable::table() const {
  HeadTable t(L_, H_);
  for (int l = 0; l < L_; ++l)
    for (int h = 0; h < H_; ++h) {
      const Head& a = heads_[size_t(l) * H_ + h];
      std::vector<double> alpha(a.alpha_sum.size()), sink_frac(a.alpha_sum.size());
      for (size_t k = 0; k < alpha.size(); ++k) {
        alpha[k] = mean(a.alpha_sum[k], a.alpha_n[k]);
        sink_frac[k] = mean(a.sink_count[k], a.alpha_n[k]);
      }
      t.set("alpha1", l, h, alpha.empty() ? 0.0 : alpha[0]);
      t.set("sink1_frac", l, h, sink_frac.empty() ? 0.0 : sink_frac[0]);
      t.set("sink_mass", l, h, mean(a.sink_mass, a.rows));
      t.set("sink_mass_raw", l, h, mean(a.sink_mass, a.rows));  // the fused kernels' rows sum to 1
      t.set("entropy", l, h, mean(a.ent, a.rows));
      t.set("norm_entropy", l, h, mean(a.nent, a.rows2));
      t.set("cover_mean", l, h, mean(a.cov, a.rows2));
      t.set("cover_median", l, h, pooled_median(a.cov_values));
      t.set("cover_censored", l, h, mean(double(a.censored), a.rows2));
      for (int q = 0; q < cuda::kTopKBudgets; ++q)
        t.set("top" + std::to_string(cuda::kTopKBudget[q]) + "_mass", l, h, mean(a.topk[q], a.rows));
      t.set("prev_token", l, h, mean(a.prev, a.prev_rows));
      t.set("prefix_matching", l, h, mean(a.prefix, a.prefix_seqs));
      t.set("echo", l, h, mean(a.echo, a.echo_seqs));
      if (tl_induction_exact_) t.set("tl_induction", l, h, mean(a.tl_ind, a.tl_seqs));
      t.set("tl_duplicate", l, h, mean(a.tl_dup, a.tl_seqs));
      t.set_head_vector("alpha", l, h, std::move(alpha));
      t.set_head_vector("sink_frac", l, h, std::move(sink_frac));
    }
  set_sink_k_scalars(t);
  set_chance_levels(t, chance_, opt_);
  set_attention_meta(t, specs_, opt_.sink_eps);
  t.set_meta("T", std::to_string(T_));
  t.set_meta("sequences", std::to_string(sequences_));
  std::string missing;
  for (const std::string& m : fused_unmeasured_metrics()) missing += (missing.empty() ? "" : ", ") + m;
  if (!tl_induction_exact_) missing += ", tl_induction (the input repeats a token at adjacent positions)";
  t.set_meta("not_measured", missing + " (the fused GPU pass streams row and column sums only; use --device cpu)");
  return t;
}

}  // namespace attnlab
