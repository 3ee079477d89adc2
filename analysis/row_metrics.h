#pragma once
// Statistics of one attention row (the weights a query gives its visible keys), each a plain
// function over a contiguous array so tests can feed hand-built rows. Definitions follow
// shared/REFERENCE.md; each cites its source. Rows are expected already proxy-normalized where
// the variant's rows do not sum to one (see proxy_normalize).
#include <cstdint>
#include <vector>

namespace attnlab {

// Ent(a) = -sum_j a_j log a_j in nats over entries > 0 (Zhai et al. 2023, REFERENCE 4).
double row_entropy(const float* a, int n);

// Gu et al. (REFERENCE 1.1, "proxy scores"): a_j <- |a_j| / sum |a|, the form that covers both
// non-negative (sigmoid, elu+1) and signed (identity, MLP kernels) unnormalized attention.
// Returns the raw sum of a (the "row mass" REFERENCE 8.3 asks to report beside it). An all-zero
// row stays zero.
double proxy_normalize(float* a, int n);

// Coverage k_p: the smallest k whose top-k mass exceeds p (FlexPrefill score_cover_topk,
// REFERENCE 5: #{i : cumsum_i <= p} + 1 over the row sorted descending, capped at n; a cumsum
// within 1e-6 of p counts as <= p, so exact ties are stable). Found by selection on the mass
// (expected O(n), no sort): the same k as the sorted walk, which it falls back to when a partial
// sum lands within rounding of the threshold. `scratch` is reused between calls.
int coverage_k(const float* a, int n, double p, std::vector<float>& scratch);

// Gini G = sum_i (2i - n - 1) a_(i) / (n sum a) with a ascending (REFERENCE 5), and the
// length-free G * n / (n - 1): 0 uniform, 1 one-hot at any length; 0 when n = 1. Exact: the
// ascending order comes from a radix sort of the float keys, O(n).
struct GiniStats {
  double gini = 0, gini_free = 0;
};
GiniStats row_gini(const float* a, int n, std::vector<uint32_t>& scratch);

// Hoyer sparsity (sqrt(n) - |a|_1 / |a|_2) / (sqrt(n) - 1) (REFERENCE 5); 0 for n = 1 or a = 0.
double hoyer(const float* a, int n);

// Prefix matching of row t (Olsson et al. 2022, REFERENCE 3.1): the attention `row` (keys 0..t,
// proxy-normalized) pays to keys j + 1 < t that follow an earlier occurrence of the query's
// token (tokens[j] == tokens[t]). Returns false, leaving `score` 0, when no such key exists.
bool row_prefix_matching(const float* row, const int32_t* tokens, int t, double& score);

// Entries exactly 0 (REFERENCE 5 exact-zero sparsity [eng]).
int count_exact_zero(const float* a, int n);
// Entries below tau / n (REFERENCE 5 fraction below a threshold, relative to uniform).
int count_below_uniform(const float* a, int n, double tau);

}  // namespace attnlab
