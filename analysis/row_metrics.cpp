#include "analysis/row_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace attnlab {

double row_entropy(const float* a, int n) {
  double h = 0;
  for (int j = 0; j < n; ++j)
    if (a[j] > 0) h -= double(a[j]) * std::log(double(a[j]));
  return h;
}

double proxy_normalize(float* a, int n) {
  double raw = 0, abs_sum = 0;
  for (int j = 0; j < n; ++j) {
    raw += a[j];
    abs_sum += std::fabs(double(a[j]));
  }
  for (int j = 0; j < n; ++j) a[j] = abs_sum > 0 ? float(std::fabs(double(a[j])) / abs_sum) : 0.0f;
  return raw;
}

SortedRowStats sorted_row_stats(const float* a, int n, double p, std::vector<float>& scratch) {
  SortedRowStats s;
  if (n <= 0) return s;
  scratch.assign(a, a + n);
  std::sort(scratch.begin(), scratch.end());  // ascending
  double total = 0, weighted = 0;
  for (int i = 0; i < n; ++i) {
    total += scratch[size_t(i)];
    weighted += double(2 * (i + 1) - n - 1) * scratch[size_t(i)];
  }
  // Coverage walks the same order from the top (descending). A cumulative mass equal to p up to
  // float rounding counts as reaching it, so rows whose mass sits exactly on p (uniform rows of 10,
  // 20, ... keys at p = 0.9) give one k, not whichever way the rounding of 1/n falls.
  constexpr double kTie = 1e-6;
  double cum = 0;
  int at_most_p = 0;
  for (int i = n - 1; i >= 0; --i) {
    cum += scratch[size_t(i)];
    if (cum <= p + kTie) ++at_most_p;
    else break;
  }
  s.coverage_k = std::min(at_most_p + 1, n);
  if (total > 0) s.gini = weighted / (double(n) * total);
  s.gini_free = n > 1 ? s.gini * n / (n - 1) : 0.0;
  return s;
}

double hoyer(const float* a, int n) {
  if (n <= 1) return 0;
  double l1 = 0, l2 = 0;
  for (int j = 0; j < n; ++j) {
    l1 += std::fabs(double(a[j]));
    l2 += double(a[j]) * a[j];
  }
  if (l2 <= 0) return 0;
  const double rn = std::sqrt(double(n));
  return (rn - l1 / std::sqrt(l2)) / (rn - 1);
}

int count_exact_zero(const float* a, int n) {
  int z = 0;
  for (int j = 0; j < n; ++j) z += a[j] == 0.0f;
  return z;
}

int count_below_uniform(const float* a, int n, double tau) {
  const double thr = tau / n;
  int c = 0;
  for (int j = 0; j < n; ++j) c += double(a[j]) < thr;
  return c;
}

bool row_prefix_matching(const float* row, const int32_t* tokens, int t, double& score) {
  score = 0;
  bool any = false;
  for (int j = 0; j + 1 < t; ++j)
    if (tokens[j] == tokens[t]) {
      score += row[j + 1];
      any = true;
    }
  return any;
}

}  // namespace attnlab
