#include "analysis/row_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>

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

namespace {

// A cumulative mass equal to p up to float rounding counts as reaching it, so rows whose mass
// sits exactly on p (uniform rows of 10, 20, ... keys at p = 0.9) give one k, not whichever way
// the rounding of 1/n falls.
constexpr double kTie = 1e-6;
// Partial sums taken in another order than the sorted walk's differ from it by rounding, about
// n * 1e-16 of the row's mass; a comparison closer to the threshold than this is decided by the
// sorted walk itself.
constexpr double kRounding = 1e-9;

// The definition: walk the row sorted descending, count the leading cumsums <= p.
int coverage_k_sorted(const float* a, int n, double p, std::vector<float>& scratch) {
  scratch.assign(a, a + n);
  std::sort(scratch.begin(), scratch.end(), std::greater<float>());
  double cum = 0;
  int at_most_p = 0;
  for (int i = 0; i < n; ++i) {
    cum += scratch[size_t(i)];
    if (cum <= p + kTie)
      ++at_most_p;
    else
      break;
  }
  return std::min(at_most_p + 1, n);
}

// Moves the entries of [lo, hi) that satisfy keep to the front (order not kept); returns the
// end of that part and adds their sum to `mass`. Branch-free Lomuto: entries between w and r
// never satisfy keep, so swapping one of them with a non-kept entry changes nothing.
template <class Keep>
float* partition_sum(float* lo, float* hi, Keep keep, double& mass) {
  float* w = lo;
  for (float* r = lo; r < hi; ++r) {
    const float x = *r;
    const bool k = keep(x);
    *r = *w;
    *w = x;
    w += k;
    mass += k ? double(x) : 0.0;
  }
  return w;
}

// Sorts n keys ascending by LSD radix, 3 passes of 11 bits, each skipped where every key shares
// the digit (in attention rows, the exponent's top bits). The result ends in keys.
void radix_sort(uint32_t* keys, uint32_t* tmp, int n) {
  constexpr int kBits = 11, kBuckets = 1 << kBits;
  uint32_t* const orig = keys;
  static thread_local std::vector<uint32_t> hist(3 * kBuckets);
  std::fill(hist.begin(), hist.end(), 0u);
  for (int j = 0; j < n; ++j)
    for (int d = 0; d < 3; ++d)
      ++hist[size_t(d * kBuckets) + ((keys[j] >> (d * kBits)) & (kBuckets - 1))];
  for (int d = 0; d < 3; ++d) {
    uint32_t* h = hist.data() + size_t(d) * kBuckets;
    if (h[(keys[0] >> (d * kBits)) & (kBuckets - 1)] == uint32_t(n)) continue;
    uint32_t sum = 0;
    for (int b = 0; b < kBuckets; ++b) {
      const uint32_t c = h[b];
      h[b] = sum;
      sum += c;
    }
    for (int j = 0; j < n; ++j) tmp[h[(keys[j] >> (d * kBits)) & (kBuckets - 1)]++] = keys[j];
    std::swap(keys, tmp);
  }
  if (keys != orig) std::copy(keys, keys + n, orig);
}

}  // namespace

int coverage_k(const float* a, int n, double p, std::vector<float>& scratch) {
  if (n <= 0) return 0;
  const double thr = p + kTie;
  // Zeros and negative entries come after every positive one in the descending walk, and add
  // nothing to a cumsum that has not crossed yet: only the positive entries can cross.
  scratch.resize(size_t(n));
  double positive = 0;
  float* lo = scratch.data();
  float* hi = lo;
  for (int j = 0; j < n; ++j)
    if (a[j] > 0) {
      *hi++ = a[j];
      positive += a[j];
    }
  if (std::fabs(positive - thr) < kRounding) return coverage_k_sorted(a, n, p, scratch);
  if (positive <= thr) return n;
  // Quickselect on the mass: entries of [lo, hi) are not yet placed; `above` is the mass of the
  // `count` entries known to rank before all of them, and stays <= thr.
  double above = 0;
  int count = 0;
  while (lo < hi) {
    const float x = lo[0], y = lo[(hi - lo) / 2], z = hi[-1];
    const float pivot = std::max(std::min(x, y), std::min(std::max(x, y), z));  // median of 3
    double m_gt = 0, m_eq = 0;
    float* gt_end = partition_sum(
        lo, hi, [pivot](float v) { return v > pivot; }, m_gt);
    if (std::fabs(above + m_gt - thr) < kRounding) return coverage_k_sorted(a, n, p, scratch);
    if (above + m_gt > thr) {  // the crossing lies among the entries above the pivot
      hi = gt_end;
      continue;
    }
    above += m_gt;
    count += int(gt_end - lo);
    float* eq_end = partition_sum(
        gt_end, hi, [pivot](float v) { return v == pivot; }, m_eq);
    // Equal entries are taken one at a time, as the sorted walk takes them.
    for (float* q = gt_end; q < eq_end; ++q) {
      above += *q;
      ++count;
      if (std::fabs(above - thr) < kRounding) return coverage_k_sorted(a, n, p, scratch);
      if (above > thr) return count;
    }
    lo = eq_end;
  }
  return n;  // not reached: the positive mass exceeds thr
}

GiniStats row_gini(const float* a, int n, std::vector<uint32_t>& scratch) {
  GiniStats g;
  if (n <= 0) return g;
  // Ascending order by sorting the floats' bits, mapped so that unsigned order is float order
  // (negatives reversed below the positives).
  scratch.resize(2 * size_t(n));
  uint32_t* keys = scratch.data();
  uint32_t* tmp = keys + n;
  for (int j = 0; j < n; ++j) {
    uint32_t u;
    std::memcpy(&u, &a[j], sizeof u);
    keys[j] = u ^ ((u >> 31) ? 0xFFFFFFFFu : 0x80000000u);
  }
  // Below a few hundred keys clearing the histograms costs more than a comparison sort.
  if (n < 512)
    std::sort(keys, keys + n);
  else
    radix_sort(keys, tmp, n);
  double total = 0, weighted = 0;
  for (int i = 0; i < n; ++i) {
    uint32_t u = keys[i];
    u ^= (u >> 31) ? 0x80000000u : 0xFFFFFFFFu;
    float v;
    std::memcpy(&v, &u, sizeof v);
    total += v;
    weighted += double(2 * (i + 1) - n - 1) * v;
  }
  if (total > 0) g.gini = weighted / (double(n) * total);
  g.gini_free = n > 1 ? g.gini * n / (n - 1) : 0.0;
  return g;
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
