#pragma once
#include <algorithm>

namespace attnlab {

template <class Score>
void top_by_score(std::vector<int>& cand, int k, Score score, std::vector<int>& out) {
  out.clear();
  if (k <= 0 || cand.empty()) return;
  k = std::min<int>(k, int(cand.size()));
  std::vector<std::pair<double, int>> s(cand.size());
  for (size_t i = 0; i < cand.size(); ++i) s[i] = {score(cand[i]), cand[i]};
  auto better = [](const std::pair<double, int>& a, const std::pair<double, int>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  std::nth_element(s.begin(), s.begin() + (k - 1), s.end(), better);
  out.reserve(size_t(k));
  for (int i = 0; i < k; ++i) out.push_back(s[size_t(i)].second);
  std::sort(out.begin(), out.end());
}

}  // namespace attnlab
