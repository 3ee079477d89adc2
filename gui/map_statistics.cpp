#include "gui/map_statistics.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace attnlab::gui {

ScaleTopSampler::ScaleTopSampler(int T) {
  const int64_t cells = int64_t(T) * (T + 1) / 2;
  stride_ = std::max<int64_t>(1, cells / 200000);
  sample_.reserve(size_t(cells / stride_ + 1));
}

void ScaleTopSampler::add_row(int t, const float* row) {
  for (int j = 0; j <= t; ++j, ++i_) {
    const float v = std::abs(row[j]);
    max_ = std::max(max_, v);
    if (i_ % stride_ == 0) sample_.push_back(v);
  }
}

double ScaleTopSampler::top() {
  float hi = max_;
  if (sample_.size() > 100) {
    auto q = sample_.begin() + ptrdiff_t(sample_.size() * 0.995);
    std::nth_element(sample_.begin(), q, sample_.end());
    hi = std::max(*q, max_ * 0.05f);
  }
  return hi > 0 ? hi : 1.0;
}

std::vector<double> KeyImportanceSums::result(const KeyMask& mask) const {
  std::vector<double> a = a_;
  const int T = int(a.size());
  for (int k = 0; k < T; ++k) {
    const int n = mask.queries_seeing(k, T);
    a[size_t(k)] = n > 0 ? a[size_t(k)] / n : 0.0;
  }
  return a;
}

double normalized_row_entropy(int t, const float* row, int n_visible) {
  // Ent of a/m without copying the row: -sum (a/m) log(a/m) = log m - (1/m) sum a log a
  // (Zhai et al.; Gu et al.'s |a| proxy for unnormalized rows).
  if (t < 1 || n_visible <= 1) return 0.0;
  float m = 0, s = 0;
  for (int j = 0; j <= t; ++j) {
    const float a = std::abs(row[j]);
    m += a;
    if (a > 0) s += a * std::log(a);
  }
  return m > 0 ? (std::log(double(m)) - s / m) / std::log(double(n_visible)) : 0.0;
}

}  // namespace attnlab::gui
