#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "analysis/sparse/rank_key.h"

namespace attnlab {

template <class Score>
void top_by_score(std::vector<int>& cand, int k, Score score, std::vector<int>& out) {
  out.clear();
  if (k <= 0 || cand.empty()) return;
  k = std::min<int>(k, int(cand.size()));
  const size_t n = cand.size();
  thread_local std::vector<uint64_t> s;
  s.resize(n);
  if constexpr (std::is_same_v<std::invoke_result_t<Score, int>, float>) {
    // Float scores (attention weights): one integer key each (rank_key.h), all distinct, so the
    // winners are exactly the keys at or above the k-th.
    for (size_t i = 0; i < n; ++i) s[i] = rank_key(score(cand[i]), cand[i]);
    const uint64_t kth = kth_largest(s.data(), n, size_t(k));
    out.reserve(size_t(k));
    for (size_t i = 0; i < n; ++i)
      if (s[i] >= kth) out.push_back(cand[i]);
  } else {
    // Double scores need all 64 bits: the k-th largest value, then every candidate above it
    // and, of those equal to it, the ones with the smallest indices.
    thread_local std::vector<int> tied;
    for (size_t i = 0; i < n; ++i) s[i] = order_bits(double(score(cand[i])));
    const uint64_t kth = kth_largest(s.data(), n, size_t(k));
    int above = 0;
    tied.clear();
    for (size_t i = 0; i < n; ++i) {
      above += s[i] > kth;
      if (s[i] == kth) tied.push_back(cand[i]);
    }
    const int take = k - above;  // >= 1: the k-th itself
    std::nth_element(tied.begin(), tied.begin() + (take - 1), tied.end());
    const int last_tied = tied[size_t(take) - 1];
    out.reserve(size_t(k));
    for (size_t i = 0; i < n; ++i)
      if (s[i] > kth || (s[i] == kth && cand[i] <= last_tied)) out.push_back(cand[i]);
  }
  // Candidates come ascending from every selector; the winners keep their order.
  if (!std::is_sorted(out.begin(), out.end())) std::sort(out.begin(), out.end());
}

}  // namespace attnlab
