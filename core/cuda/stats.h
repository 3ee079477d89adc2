#pragma once
// The per-row and per-column sums the fused statistics kernel streams out of attention (memory
// B x Hq x T each, never T x T), and their reduction to the per-head numbers of the analysis
// engine (shared/REFERENCE.md 1.1 alpha_k and sink mass, 3.1 previous-token and prefix-matching,
// 3.2 duplicate-token, 4 normalized entropy). Plain C++: the CPU suite tests it.
#include <cstdint>
#include <vector>

#include "core/cuda/bitonic.h"
#include "core/cuda/plan.h"

namespace attnlab::cuda {

// Each field is [B, Hq, T] (flattened), indexed ((b * Hq + h) * T + i).
struct StreamStats {
  std::vector<float> col_mass;   // sum over queries t of A[t, j]            (column j = i)
  std::vector<float> entropy;    // -sum_j A[t,j] log A[t,j], nats           (row t = i)
  std::vector<float> prev_token; // A[t, t-1], 0 for t = 0
  std::vector<float> induction;  // sum of A[t,j] over 1 <= j < t with x[j-1] == x[t]
  std::vector<float> duplicate;  // sum of A[t,j] over j < t with x[j] == x[t]
  std::vector<float> row_max;    // max_j A[t,j] (top-1 mass)
  // [B, Hq, T, kTopKBudgets]: mass of the k largest weights of row t for k in kTopKBudget.
  std::vector<float> topk_mass;
  // k_0.9: the smallest k whose top-k mass exceeds kCoverageP (REFERENCE 5, FlexPrefill's
  // score_cover_topk), or kCoverageCensored when that needs more than 32 keys.
  std::vector<float> cover;
  void resize(const AttnDims& d);
};

struct HeadSummary {
  std::vector<float> alpha;  // alpha_k = col_mass[k] / (T - k), 0-based k (Gu et al.)
  double sink_mass = 0;      // mean_t A[t, 0]
  double norm_entropy = 0;   // mean over rows with n_t >= 2 of entropy / log(n_t)
  double prev_token = 0;     // mean over t >= 1 of A[t, t-1]
  double induction = 0;      // mean over t >= 1 of the prefix-matching mass
  double duplicate = 0;      // mean over t >= 1 of the duplicate-token mass
  double top1 = 0;           // mean over all t of max_j A[t, j]
  double topk[kTopKBudgets] = {};  // mean over all t of the top-k mass, k in kTopKBudget
  // Median over t >= 1 of k_0.9 / n_t, and the fraction of rows where k_0.9 > 32 (there the
  // row counts as 33 keys, so the median is then a lower bound).
  double cover_median = 0;
  double cover_censored = 0;
};
HeadSummary summarize_head(const AttnDims& d, const StreamStats& s, int b, int h);

}  // namespace attnlab::cuda
