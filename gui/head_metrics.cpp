#include "gui/head_metrics.h"

#include <algorithm>
#include <cmath>

#include "analysis/head_stats.h"

namespace attnlab::gui {
namespace {

// What the grid offers, read from the analysis engine's HeadSummary (definitions and sources
// are documented there, following shared/REFERENCE.md).
struct GridMetric {
  MetricInfo info;
  double (*value)(const HeadSummary&);
  bool has_chance = true;  // an attention-distribution metric (row mass has none)
};

double max_other_alpha(const HeadSummary& s) {
  double m = 0;
  for (size_t k = 1; k < s.alpha.size(); ++k) m = std::max(m, s.alpha[k]);
  return m;
}

const std::vector<GridMetric>& grid_metrics() {
  static const std::vector<GridMetric> m = {
      {{"sink score α₁", "α₁: the first token's column sum over T (Gu et al. 2024, eval_sink_pretrain.py; Sink^ε counts heads with α₁ > 0.3)", 0, 1},
       [](const HeadSummary& s) { return s.alpha.empty() ? 0.0 : s.alpha[0]; }},
      {{"strongest other key α_k", "max over k > 1 of α_k: a sink that is not the first token", 0, 1}, max_other_alpha},
      {{"entropy (normalized)", "mean over queries of Ent(A_t) / log n_t (Zhai et al. 2023; rows with one key skipped)", 0, 1},
       [](const HeadSummary& s) { return s.norm_entropy; }},
      {{"previous-token", "mean over t ≥ 1 of A[t, t-1] (Olsson et al. 2022)", 0, 1},
       [](const HeadSummary& s) { return s.prev_token; }},
      {{"induction (prefix matching)", "attention on keys whose previous token equals the query's token, over rows that have one (Olsson et al. 2022); 0 when the prompt has no repeats", 0, 1},
       [](const HeadSummary& s) { return s.prefix_matching; }},
      {{"induction (TransformerLens)", "TransformerLens head detector 'mul' score of the induction pattern", 0, 1},
       [](const HeadSummary& s) { return s.tl_induction; }},
      {{"duplicate token", "TransformerLens head detector 'mul' score of the duplicate-token pattern", 0, 1},
       [](const HeadSummary& s) { return s.tl_duplicate; }},
      {{"top-k coverage k₀.₉/n (median)", "median over queries of the smallest k holding 90% of the mass, over n visible keys (FlexPrefill)", 0, 1},
       [](const HeadSummary& s) { return s.coverage_median; }},
      {{"Gini (length-free)", "Gini coefficient of each row times n/(n-1): 0 uniform, 1 one-hot", 0, 1},
       [](const HeadSummary& s) { return s.gini_free; }},
      {{"Hoyer sparsity", "mean over queries of (√n - |a|₁/|a|₂)/(√n - 1)", 0, 1},
       [](const HeadSummary& s) { return s.hoyer; }},
      {{"exact zeros", "fraction of visible entries that are exactly 0 (ReLU, softpick, sigmoid-like variants)", 0, 1},
       [](const HeadSummary& s) { return s.zero_frac; }},
      {{"row mass", "mean raw row sum before proxy normalization (1 for softmax)", 0, 1},
       [](const HeadSummary& s) { return s.row_mass; }, false},
  };
  return m;
}

}  // namespace

int MetricGrid::index_of(const std::string& name) const {
  for (size_t i = 0; i < metrics.size(); ++i)
    if (metrics[i].name == name) return int(i);
  return -1;
}

MetricGrid compute_metric_grid(const CapturedForward& run, const std::atomic<bool>* cancel,
                               const std::function<void(double)>& progress) {
  const auto& defs = grid_metrics();
  MetricGrid g;
  g.n_layers = run.n_layers();
  g.n_heads = run.n_heads();
  for (const auto& d : defs) g.metrics.push_back(d.info);
  g.values.assign(defs.size(), std::vector<double>(size_t(g.n_layers) * g.n_heads, 0.0));
  g.chance.assign(defs.size(), std::vector<double>(size_t(g.n_layers), std::nan("")));
  const int T = run.T();
  for (int l = 0; l < g.n_layers; ++l) {
    const KeyMask mask = run.mask(l);
    const bool normalized = run.normalized_rows(l);
    HeadStats uniform;
    uniform.begin_sequence(run.tokens().data(), T, mask, true);
    for (int t = 0; t < T; ++t) uniform.add_uniform_row(t);
    uniform.end_sequence();
    const HeadSummary u = uniform.summary();
    for (size_t m = 0; m < defs.size(); ++m)
      if (defs[m].has_chance) g.chance[m][size_t(l)] = defs[m].value(u);
    for (int h = 0; h < g.n_heads; ++h) {
      if (cancel && cancel->load()) throw Cancelled{};
      HeadStats stats;
      stats.begin_sequence(run.tokens().data(), T, mask, normalized);
      run.stream_rows(l, h, [&](int t, const float* row) { stats.add_row(t, row); });
      stats.end_sequence();
      const HeadSummary s = stats.summary();
      for (size_t m = 0; m < defs.size(); ++m) g.values[m][size_t(l) * g.n_heads + h] = defs[m].value(s);
      if (progress) progress(double(l * g.n_heads + h + 1) / (g.n_layers * g.n_heads));
    }
  }
  return g;
}

}  // namespace attnlab::gui
