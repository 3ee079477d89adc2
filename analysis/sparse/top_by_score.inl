#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "analysis/sparse/rank_key.h"

namespace attnlab {

namespace detail {

// Emits the k winners in the candidates' own order (ascending for every selector) by marking,
// not by sorting them: O(n) rather than O(k log k) on top of the selection.
template <class Index>
void emit_in_candidate_order(const std::vector<int>& cand, int k, Index winner,
                             std::vector<int>& out) {
  thread_local std::vector<char> chosen;
  const int top = *std::max_element(cand.begin(), cand.end());
  chosen.assign(size_t(top) + 1, 0);
  for (int i = 0; i < k; ++i) chosen[size_t(winner(i))] = 1;
  out.reserve(size_t(k));
  for (int c : cand)
    if (chosen[size_t(c)]) out.push_back(c);
  if (!std::is_sorted(out.begin(), out.end())) std::sort(out.begin(), out.end());
}

}  // namespace detail

template <class Score>
void top_by_score(std::vector<int>& cand, int k, Score score, std::vector<int>& out) {
  out.clear();
  if (k <= 0 || cand.empty()) return;
  k = std::min<int>(k, int(cand.size()));
  if constexpr (std::is_same_v<std::invoke_result_t<Score, int>, float>) {
    // Float scores (attention weights): one integer key each (rank_key.h).
    thread_local std::vector<uint64_t> s;
    s.resize(cand.size());
    for (size_t i = 0; i < cand.size(); ++i) s[i] = rank_key(score(cand[i]), cand[i]);
    std::nth_element(s.begin(), s.begin() + (k - 1), s.end(), std::greater<uint64_t>());
    detail::emit_in_candidate_order(
        cand, k, [&](int i) { return rank_key_index(s[size_t(i)]); }, out);
  } else {
    thread_local std::vector<std::pair<double, int>> s;
    s.resize(cand.size());
    for (size_t i = 0; i < cand.size(); ++i) s[i] = {double(score(cand[i])), cand[i]};
    auto better = [](const std::pair<double, int>& a, const std::pair<double, int>& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    std::nth_element(s.begin(), s.begin() + (k - 1), s.end(), better);
    detail::emit_in_candidate_order(
        cand, k, [&](int i) { return s[size_t(i)].second; }, out);
  }
}

}  // namespace attnlab
