#pragma once
// Folds the fused statistics of the GPU model (cuda::StreamStats: per-row and per-column sums,
// never T x T) into the analysis engine's per-head metrics, with the CPU analyzer's definitions
// (analysis/head_stats.h) and names, so a `--device cuda` table reads like a `--device cpu` one.
//
// Why not cuda::summarize_head: it reduces one sequence with its own conventions (duplicate and
// prefix matching as means over t >= 1, a per-sequence coverage median, masks from the kernel's
// window only). The CPU analyzer instead uses TransformerLens's sum(A * P) / sum(A), prefix
// matching over rows that have a matching key, a coverage median pooled over every row of every
// sequence, and the key mask of the layer's spec (KeyMask). This class reproduces those from the
// same streams; token-dependent row selections are recomputed here from the tokens.
//
// Plain C++ (stats.h has no CUDA types): the CPU suite feeds it statistics from the reference
// pass and checks the table against the CPU analyzer on the same model.
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/head_stats.h"
#include "analysis/head_table.h"
#include "analysis/key_mask.h"
#include "core/cuda/stats.h"

namespace attnlab {

// CPU analyzer metrics the fused pass cannot produce (they need whole rows, value states or the
// residual stream); a GPU table leaves them out and lists them in its meta "not_measured".
const std::vector<std::string>& fused_unmeasured_metrics();

class StreamStatsTable {
 public:
  // specs: one attention spec per layer (Attention::spec(), the CPU analyzer's KeyMask source).
  StreamStatsTable(std::vector<std::string> specs, int n_heads, MetricOptions opt = {});

  // One forward's statistics: stats[l] for every layer, each sized [B, H, T]; tokens [B, T]
  // (null: token-based scores are skipped, as on the CPU).
  void add(const std::vector<cuda::StreamStats>& stats, const int32_t* tokens, int B, int T);

  // Head metrics under the CPU names (alpha1, sink1_frac, sink_mass, entropy, norm_entropy,
  // cover_mean, cover_median, prev_token, prefix_matching, echo, tl_duplicate, tl_induction),
  // the fused pass's own top-k masses ("top<k>_mass") and "cover_censored", the vectors "alpha"
  // and "sink_frac", the scalars "sink_k<k>_pct", and meta "attention", "sink_eps", "T",
  // "sequences" (as analyze_sequences records them) and "not_measured".
  // tl_induction is left out (and said so in meta) when some sequence repeats a token at adjacent
  // positions: TL counts A[t, t] there, a weight the streamed sums do not keep.
  HeadTable table() const;

 private:
  // The running sums of one head, named after HeadStats's (analysis/head_stats.cpp).
  struct Head {
    std::vector<double> alpha_sum, sink_count;
    std::vector<int64_t> alpha_n;
    double sink_mass = 0, ent = 0, nent = 0, cov = 0, prev = 0, topk[cuda::kTopKBudgets] = {};
    int64_t rows = 0, rows2 = 0, prev_rows = 0, censored = 0;
    std::vector<float> cov_values;
    double tl_dup = 0, tl_ind = 0, prefix = 0, echo = 0;
    int64_t tl_seqs = 0, prefix_seqs = 0, echo_seqs = 0, sequences = 0;
  };
  void add_head(Head& acc, const cuda::StreamStats& s, const KeyMask& mask, int b, int h, int H, int T,
                const int32_t* tokens, const std::vector<char>& has_dup, const std::vector<char>& has_pre);
  std::vector<std::string> specs_;
  int L_, H_;
  MetricOptions opt_;
  std::vector<KeyMask> masks_;
  std::vector<Head> heads_;  // [L * H]
  std::vector<HeadStats> chance_;  // [L]: uniform attention over each layer's mask (chance levels)
  bool tl_induction_exact_ = true;
  int64_t sequences_ = 0;
  int T_ = 0;
};

}  // namespace attnlab
