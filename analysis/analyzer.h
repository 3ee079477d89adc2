#pragma once
// The ForwardObserver that streams every head's attention rows (Attention::pattern) into one
// HeadStats per (layer, head), reads value-state norms from q/k/v and the residual stream after
// every block. Memory grows with T x heads (and T x d_model for one residual copy), never T x T.
//
// Usage: AttentionAnalyzer a(cfg.n_layers, cfg.n_heads); model.add_observer(&a);
//        a.set_tokens(ids, B, T); model.forward(ids, B, T); ... ; HeadTable t = a.table();
#include <cstdint>
#include <vector>

#include "analysis/head_stats.h"
#include "analysis/head_table.h"
#include "core/model/observer.h"

namespace attnlab {

// Massive activations (Sun et al. 2024, REFERENCE 1.3): per layer output, the top-3 |h| entries
// and the median |h| of each input's hidden state; an entry is massive when |h| > 100 and
// |h| >= 1000 x that median.
struct MassiveEntry {
  double value = 0;  // |h|
  int seq = 0, pos = 0, dim = 0;
};
struct LayerResidualStats {
  std::vector<double> norm_sum;   // per position: sum over sequences of ||h_t||_2
  std::vector<int64_t> norm_n;
  MassiveEntry top[3];
  double median_sum = 0;          // sum over sequences of median |h|
  int64_t sequences = 0;
  int64_t massive = 0;            // entries flagged massive
};

// Sink_k^eps in % for any 1-based k (Gu et al., REFERENCE 1.1) from a table's "sink_frac"
// vectors: the indicator alpha_k > eps averaged over sequences, layers and heads. Throws when k
// lies beyond the analysed length.
double sink_k_percent(const HeadTable& t, int k);
// Stores sink_k1_pct .. sink_k10_pct (as far as every head's "sink_frac" reaches) as scalars.
void set_sink_k_scalars(HeadTable& t);
// The head metrics of a summary, by head-table name, in table order (the analyzer's columns;
// also how the chance levels are named).
std::vector<std::pair<std::string, double>> head_metric_values(const HeadSummary& s, const MetricOptions& opt);
// Chance levels for a table whose head metrics are set: from `chance` (per layer, the statistics of
// uniform attention over that layer's visible keys on the same tokens), each metric's chance level,
// the vectors "alpha_chance", the scalars "sink_k<k>_pct_chance" and the meta
// "sink_chance_warning". The CPU analyzer and the GPU stream table share it.
void set_chance_levels(HeadTable& t, const std::vector<HeadStats>& chance, const MetricOptions& opt);
// Where uniform attention alone scores alpha_1 > eps (short probes, small windows), a Sink flag
// shows nothing: records those layers and their chance alpha_1 in the meta "sink_chance_warning".
void note_chance_above_threshold(HeadTable& t, double sink_eps);
// The metrics that have a chance level: those computed from the attention distribution.
bool has_chance_level(const std::string& metric);
// Records what a table was measured under: the layers' attention specs and the Sink_k threshold.
void set_attention_meta(HeadTable& t, const std::vector<std::string>& specs, double sink_eps);

class AttentionAnalyzer : public ForwardObserver {
 public:
  AttentionAnalyzer(int n_layers, int n_heads, MetricOptions opt = {});

  // The token ids [B, T] of the next forward (token-based scores need them); null skips them.
  // Only the first `max_rows` batch items are analysed (all when < 0).
  void set_tokens(const int32_t* tokens, int B, int T, int max_rows = -1);

  void on_attention(const LayerAttentionView& view) override;
  void on_residual(int layer, const Tensor& h) override;

  const HeadStats& head(int layer, int head) const;
  // Everything as a HeadTable: head metrics (names as in docs/analysis.md) with their 95 %
  // intervals over sequences and chance levels, vectors "alpha", "alpha_visible", "sink_frac",
  // "value_norm", layer values/vectors "resid_norm", "massive_*", and the model scalars
  // "sink_k<k>_pct" (Sink_k^eps in %, k = 1..min(10, T), 1-based as Gu et al. print) with
  // "sink_k<k>_pct_ci95" and "sink_k<k>_pct_chance".
  HeadTable table() const;

 private:
  int L_, H_;
  MetricOptions opt_;
  std::vector<HeadStats> heads_;
  // Per layer: the same statistics for uniform attention over the layer's visible keys on the
  // same tokens, i.e. every metric's chance level.
  std::vector<HeadStats> chance_;
  std::vector<std::vector<double>> vnorm_sum_;  // [L*H][T]
  std::vector<std::vector<int64_t>> vnorm_n_;   // [L][T]: every head of a layer sees the same rows
  std::vector<LayerResidualStats> resid_;       // [L + 1]
  std::vector<std::string> specs_;              // per layer, from the attention seen
  const int32_t* tokens_ = nullptr;
  int B_ = 0, T_ = 0, rows_ = -1;
  int64_t seq_base_ = 0;  // sequences analysed before this forward (for massive entry ids)
};

}  // namespace attnlab
