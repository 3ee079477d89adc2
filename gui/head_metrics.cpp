#include "gui/head_metrics.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace attnlab::gui {
namespace {

// Definitions follow shared/REFERENCE.md (sections 1.1, 3.2, 4, 5): sink score alpha_1 (Gu et
// al.), normalized entropy (by log of visible keys, rows with one key skipped), previous-token
// and induction scores in the TransformerLens 'mul' form, Hoyer sparsity, top-k coverage k_0.9.
enum Metric { kSink, kMaxAlpha, kEntropy, kPrev, kInduction, kHoyer, kCoverage, kCount };

std::vector<MetricInfo> metric_infos() {
  return {
      {"sink score α₁", "α₁: mean attention the first token receives (Gu et al. 2024, Sink^ε uses ε=0.3)", 0, 1},
      {"strongest other key α_k", "max over k>1 of α_k = mean attention key k receives from the queries that see it", 0, 1},
      {"entropy (normalized)", "mean over queries of H(A_t)/log(n_t) (Zhai et al. 2023; rows with one key skipped)", 0, 1},
      {"previous-token", "mean over t>1 of A[t, t-1] (TransformerLens head detector)", 0, 1},
      {"induction (prompt)", "mean attention from a repeated token to the token after its earlier occurrences (TransformerLens 'mul' form); 0 when the prompt has no repeats", 0, 1},
      {"Hoyer sparsity", "mean over queries of (√n - |a|₁/|a|₂)/(√n - 1)", 0, 1},
      {"top-k coverage k₀.₉/n", "mean over queries of the smallest k holding 90% of the mass, over n visible keys (FlexPrefill)", 0, 1},
  };
}

}  // namespace

int MetricGrid::index_of(const std::string& name) const {
  for (size_t i = 0; i < metrics.size(); ++i)
    if (metrics[i].name == name) return int(i);
  return -1;
}

MetricGrid compute_metric_grid(const CapturedForward& run, const std::atomic<bool>* cancel,
                               const std::function<void(double)>& progress) {
  MetricGrid g;
  g.n_layers = run.n_layers();
  g.n_heads = run.n_heads();
  g.metrics = metric_infos();
  g.values.assign(kCount, std::vector<double>(size_t(g.n_layers) * g.n_heads, 0.0));
  const int T = run.T();
  const std::vector<int32_t>& tok = run.tokens();

  // Induction targets: for query t, the positions j+1 where tok[j] == tok[t], j < t.
  std::vector<std::vector<int>> induction_keys(T);
  int induction_rows = 0;
  {
    std::map<int32_t, std::vector<int>> seen;
    for (int t = 0; t < T; ++t) {
      auto it = seen.find(tok[t]);
      if (it != seen.end()) {
        for (int j : it->second)
          if (j + 1 < t) induction_keys[t].push_back(j + 1);
        if (!induction_keys[t].empty()) ++induction_rows;
      }
      seen[tok[t]].push_back(t);
    }
  }

  std::vector<double> col_sum(T);
  std::vector<float> sorted;
  for (int l = 0; l < g.n_layers; ++l) {
    for (int h = 0; h < g.n_heads; ++h) {
      if (cancel && cancel->load()) throw Cancelled{};
      std::fill(col_sum.begin(), col_sum.end(), 0.0);
      double ent = 0, prev = 0, ind = 0, hoyer = 0, cover = 0;
      run.stream_rows(l, h, [&](int t, const float* row) {
        const int n = t + 1;
        double mass = 0;
        for (int j = 0; j < n; ++j) mass += std::abs(row[j]);
        const double inv = mass > 0 ? 1.0 / mass : 0.0;  // proxy-normalized rows (Gu et al.)
        for (int j = 0; j < n; ++j) col_sum[j] += std::abs(row[j]) * inv;
        if (n < 2) return;
        double e = 0, l2 = 0;
        for (int j = 0; j < n; ++j) {
          const double a = std::abs(row[j]) * inv;
          if (a > 0) e -= a * std::log(a);
          l2 += a * a;
        }
        ent += e / std::log(double(n));
        prev += std::abs(row[t - 1]) * inv;
        for (int j : induction_keys[t]) ind += std::abs(row[j]) * inv;
        const double sq = std::sqrt(double(n));
        hoyer += l2 > 0 ? (sq - 1.0 / std::sqrt(l2)) / (sq - 1) : 0;
        sorted.assign(row, row + n);
        std::sort(sorted.begin(), sorted.end(), [](float a, float b) { return std::abs(a) > std::abs(b); });
        double cum = 0;
        int k = 0;
        while (k < n && cum <= 0.9) cum += std::abs(sorted[k++]) * inv;
        cover += double(k) / n;
      });
      const int rows = std::max(1, T - 1);
      const size_t cell = size_t(l) * g.n_heads + h;
      double max_alpha = 0;
      for (int k = 1; k < T; ++k) max_alpha = std::max(max_alpha, col_sum[k] / (T - k));
      g.values[kSink][cell] = col_sum[0] / T;
      g.values[kMaxAlpha][cell] = max_alpha;
      g.values[kEntropy][cell] = ent / rows;
      g.values[kPrev][cell] = prev / rows;
      g.values[kInduction][cell] = induction_rows ? ind / induction_rows : 0.0;
      g.values[kHoyer][cell] = hoyer / rows;
      g.values[kCoverage][cell] = cover / rows;
      if (progress) progress(double(l * g.n_heads + h + 1) / (g.n_layers * g.n_heads));
    }
  }
  return g;
}

}  // namespace attnlab::gui
