#pragma once
// Streaming per-head statistics over attention rows. One HeadStats per (layer, head) is fed the
// rows of each sequence in turn (begin_sequence, add_row for t = 0..T-1, end_sequence); memory is
// O(T) per head, never T x T: between sequences 20 bytes per position (alpha, alpha_visible,
// sink counts) plus two floats per row (coverage median, row-mass quantiles); row scratch is
// per thread, not per head.
//
// Every row is first restricted to its visible keys (KeyMask) and, for variants whose rows need
// not sum to one, proxy-normalized (|a| / sum |a|, Gu et al.) after its raw mass is recorded.
// Positions are 0-based here; REFERENCE.md's 1-based formulas are translated in each comment.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analysis/key_mask.h"
#include "analysis/sequence_mean.h"

namespace attnlab {

struct MetricOptions {
  double sink_eps = 0.3;     // Gu et al. epsilon for Sink_k (REFERENCE 1.1)
  double cover_p = 0.9;      // coverage mass p (REFERENCE 5)
  std::vector<double> taus = {0.1, 0.01};  // fraction below tau / n_t (REFERENCE 5)
};

// The per-head numbers a HeadStats reports. Each is a mean over sequences of the per-sequence
// value (so that the 95 % interval in `ci95` is taken over sequences, the independent draws); a
// metric no sequence could measure (no qualifying row) is NaN, not 0.
struct HeadSummary {
  // Gu et al. alpha_k exactly as their eval_sink_pretrain.py computes it: per sequence, the
  // column sum of key k divided by T - k (0-based k; the paper's T - k + 1 with 1-based k),
  // under every mask: a window that hides key k from later queries lowers alpha_k, so uniform
  // attention over w keys gives alpha_0 = H_w / T. The vector is the mean over sequences.
  std::vector<double> alpha;
  // The same column sum divided by the number of queries that see key k (attnlab's earlier
  // alpha_k; equal to alpha under plain causal attention). Not Gu et al.'s metric.
  std::vector<double> alpha_visible;
  // Fraction of this head's sequences with alpha_k > eps (the per-head part of Sink_k^eps:
  // Gu's code averages the indicator over samples, layers and heads jointly, '>' not '>=').
  std::vector<double> sink_frac;
  double sink_mass = 0;      // m_1 = mean over rows of A[t, 0] (REFERENCE 5 sink mass)
  // m_1 on the raw rows, before proxy normalization: with an explicit sink slot (softmax1,
  // sink_logit, kv_bias) the first token's share of the whole row, slot included.
  double sink_mass_raw = 0;
  // Distribution metrics, over non-empty rows only (rows whose visible mass is 0 have no
  // distribution; they are counted in empty_row_frac instead).
  double entropy = 0;        // mean over rows of Ent(A_t), nats (Zhai et al., REFERENCE 4)
  double norm_entropy = 0;   // mean over rows with n_t >= 2 of Ent / log n_t (REFERENCE 4, 8.6)
  double coverage_mean = 0;  // mean over rows with n_t >= 2 of k_p / n_t (REFERENCE 5)
  double coverage_median = 0;  // its median over those rows, pooled over sequences (REFERENCE 5 [eng])
  // Span growth (MoA's "expands vs fixed", SPARSE.md 1.4 [W]): per sequence, the least-squares
  // slope of log k_p against log n_t over the non-empty rows with n_t >= max(2, T/8) (in a causal
  // model row t is the last query at context t + 1, so this is k_0.9 over T in {T/8 .. T});
  // mean over sequences. 0: a fixed span (local, sink heads); 1: the span grows with the context
  // (uniform). NaN where n_t does not vary over those rows (a window mask fixes it) or < 3 rows.
  double span_growth = 0;
  double gini = 0, gini_free = 0, hoyer = 0;  // means over rows with n_t >= 2 (REFERENCE 5)
  double zero_frac = 0;      // exactly-zero visible entries / visible entries (REFERENCE 5)
  std::vector<double> below_frac;  // per tau: visible entries < tau / n_t / visible entries
  double prev_token = 0;     // mean over t >= 1 of A[t, t-1] (Olsson et al., REFERENCE 3.1)
  // TransformerLens head_detector "mul" form (REFERENCE 3.2): per sequence sum(A * P) / sum(A)
  // over the whole pattern, mean over sequences. Duplicate: P[t,j] = 1 for j < t, x_j = x_t.
  // Induction: the duplicate pattern shifted one key right, P[t,j] = 1 for 1 <= j <= t with
  // x_{j-1} = x_t and j - 1 < t.
  double tl_duplicate = 0, tl_induction = 0;
  // Anthropic prefix matching (Olsson et al., REFERENCE 3.1): over rows with at least one key
  // j < t whose previous token x_{j-1} equals x_t, the attention on those keys; per-sequence
  // mean over such rows, then mean over sequences. Echo (RazorAttention, REFERENCE 2.3): the
  // same with keys j < t holding x_t itself.
  double prefix_matching = 0, echo = 0;
  double row_mass = 0;       // mean raw row sum before proxy normalization (REFERENCE 8.3)
  double empty_row_frac = 0; // rows whose visible mass is exactly 0 (softpick, ReLU, sigmoid)
  double row_mass_p10 = 0, row_mass_p50 = 0, row_mass_p90 = 0;  // raw row sums, pooled rows
  // 95 % interval half-widths over sequences, by head-table metric name (see analyzer.cpp);
  // NaN below two sequences.
  std::map<std::string, double> ci95;
  int64_t rows = 0, sequences = 0;
};

// The median of values pooled over rows (the middle pair averaged for an even count); NaN for none.
double pooled_median(std::vector<float> v);

class HeadStats {
 public:
  explicit HeadStats(MetricOptions opt = {});

  // tokens (may be null: token-based scores are then skipped) holds the sequence's T ids.
  void begin_sequence(const int32_t* tokens, int T, const KeyMask& mask, bool normalized_rows);
  // row holds the weights query t gives keys 0..t, as Attention::pattern() streams them.
  void add_row(int t, const float* row);
  // The same statistics for uniform attention over the visible keys of row t: the chance level.
  void add_uniform_row(int t);
  void end_sequence();

  HeadSummary summary() const;
  const MetricOptions& options() const { return opt_; }
  // Per analysed sequence, alpha_k for k = 0..kFirstKeys-1 (NaN beyond the sequence): what
  // Sink_k^eps and its interval over sequences are computed from.
  static constexpr int kFirstKeys = 10;
  const std::vector<float>& first_alphas() const { return first_alpha_; }

 private:
  void add_visible(int t, float* full, float* v, int n);
  MetricOptions opt_;
  // current sequence
  const int32_t* tokens_ = nullptr;
  int T_ = 0;
  KeyMask mask_;
  bool normalized_ = true;
  std::vector<double> col_sum_;  // released at end_sequence
  double seq_tl_dup_ = 0, seq_tl_ind_ = 0, seq_tl_den_ = 0;
  // log n_t, log k_p sums of the current sequence's span-growth fit
  double span_n_ = 0, span_x_ = 0, span_y_ = 0, span_xx_ = 0, span_xy_ = 0;
  // totals; position k was seen by the sequences longer than k (sequences_of_length_: length ->
  // how many, usually one entry)
  std::vector<double> alpha_sum_, alpha_vis_sum_;
  std::vector<uint32_t> sink_count_;
  std::map<int, int64_t> sequences_of_length_;
  std::vector<float> first_alpha_;
  SequenceMean alpha0_, alpha0_vis_, sink0_;
  SequenceMean sink_mass_, sink_mass_raw_, ent_, nent_, cov_, gini_, gini_free_, hoyer_, prev_, row_mass_, empty_;
  SequenceMean zeros_, tl_dup_, tl_ind_, prefix_, echo_, span_;
  std::vector<SequenceMean> below_;
  std::vector<float> cov_values_, row_mass_values_;
  int64_t rows_ = 0, sequences_ = 0;
};

}  // namespace attnlab
