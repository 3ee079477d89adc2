#pragma once
// Streaming per-head statistics over attention rows. One HeadStats per (layer, head) is fed the
// rows of each sequence in turn (begin_sequence, add_row for t = 0..T-1, end_sequence); memory is
// O(T) per head (plus one float per row for the coverage median), never T x T.
//
// Every row is first restricted to its visible keys (KeyMask) and, for variants whose rows need
// not sum to one, proxy-normalized (|a| / sum |a|, Gu et al.) after its raw mass is recorded.
// Positions are 0-based here; REFERENCE.md's 1-based formulas are translated in each comment.
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/key_mask.h"

namespace attnlab {

struct MetricOptions {
  double sink_eps = 0.3;     // Gu et al. epsilon for Sink_k (REFERENCE 1.1)
  double cover_p = 0.9;      // coverage mass p (REFERENCE 5)
  std::vector<double> taus = {0.1, 0.01};  // fraction below tau / n_t (REFERENCE 5)
};

// The per-head numbers a HeadStats reports (means over the rows / sequences named).
struct HeadSummary {
  // Gu et al. alpha_k: per sequence, sum_t A[t,k] / #queries that see k (T - k for causal,
  // the paper's 1/(T-k+1) with 1-based k); the vector is the mean over sequences.
  std::vector<double> alpha;
  // Fraction of this head's sequences with alpha_k > eps (the per-head part of Sink_k^eps:
  // Gu's code averages the indicator over samples, layers and heads jointly, '>' not '>=').
  std::vector<double> sink_frac;
  double sink_mass = 0;      // m_1 = mean over rows of A[t, 0] (REFERENCE 5 sink mass)
  double entropy = 0;        // mean over all rows of Ent(A_t), nats (Zhai et al., REFERENCE 4)
  double norm_entropy = 0;   // mean over rows with n_t >= 2 of Ent / log n_t (REFERENCE 4, 8.6)
  double coverage_mean = 0;  // mean over rows with n_t >= 2 of k_p / n_t (REFERENCE 5)
  double coverage_median = 0;  // its median over those rows (REFERENCE 5 [eng])
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
  int64_t rows = 0, sequences = 0;
};

class HeadStats {
 public:
  explicit HeadStats(MetricOptions opt = {})
      : opt_(std::move(opt)), below_(opt_.taus.size(), 0) {}

  // tokens (may be null: token-based scores are then skipped) holds the sequence's T ids.
  void begin_sequence(const int32_t* tokens, int T, const KeyMask& mask, bool normalized_rows);
  // row holds the weights query t gives keys 0..t, as Attention::pattern() streams them.
  void add_row(int t, const float* row);
  void end_sequence();

  HeadSummary summary() const;
  const MetricOptions& options() const { return opt_; }

 private:
  MetricOptions opt_;
  // current sequence
  const int32_t* tokens_ = nullptr;
  int T_ = 0;
  KeyMask mask_;
  bool normalized_ = true;
  std::vector<double> col_sum_;
  double seq_tl_dup_ = 0, seq_tl_ind_ = 0, seq_tl_den_ = 0;
  double seq_prefix_ = 0, seq_echo_ = 0;
  int64_t seq_prefix_rows_ = 0, seq_echo_rows_ = 0;
  std::vector<float> vis_, scratch_;
  // totals
  std::vector<double> alpha_sum_, sink_count_;
  std::vector<int64_t> alpha_n_;
  double sink_mass_ = 0, ent_ = 0, nent_ = 0, cov_ = 0, gini_ = 0, gini_free_ = 0, hoyer_ = 0;
  double prev_ = 0, row_mass_ = 0;
  int64_t rows_ = 0, rows2_ = 0, prev_rows_ = 0, entries_ = 0, zeros_ = 0;
  std::vector<int64_t> below_;
  std::vector<float> cov_values_;
  double tl_dup_ = 0, tl_ind_ = 0, prefix_ = 0, echo_ = 0;
  int64_t tl_seqs_ = 0, prefix_seqs_ = 0, echo_seqs_ = 0, sequences_ = 0;
};

}  // namespace attnlab
