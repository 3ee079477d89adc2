// Row statistics on hand-built rows with known answers (REFERENCE 4 and 5).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/key_mask.h"
#include "analysis/row_metrics.h"
#include "core/tensor/rng.h"

using namespace attnlab;

TEST_CASE("uniform rows: entropy log n, Gini 0, Hoyer 0, full coverage", "[analysis][row]") {
  std::vector<float> scratch;
  std::vector<uint32_t> keys;
  for (int n : {1, 2, 5, 8, 10, 20, 37, 600}) {
    std::vector<float> a(size_t(n), 1.0f / float(n));
    CHECK(row_entropy(a.data(), n) == Approx(std::log(double(n))).margin(1e-6));
    GiniStats s = row_gini(a.data(), n, keys);
    CHECK(s.gini == Approx(0.0).margin(1e-6));
    CHECK(s.gini_free == Approx(0.0).margin(1e-6));
    // Cumsums i / n: floor(0.9 n) of them at most 0.9 (ties included), plus one, capped at n.
    CHECK(coverage_k(a.data(), n, 0.9, scratch) ==
          std::min(n, int(std::floor(0.9 * n + 1e-9)) + 1));
    CHECK(hoyer(a.data(), n) == Approx(0.0).margin(1e-6));
    CHECK(count_exact_zero(a.data(), n) == 0);
    CHECK(count_below_uniform(a.data(), n, 0.1) == 0);
  }
  // k_0.9 = #{i : cumsum_i <= 0.9} + 1: four keys of 0.25 give cumsums .25 .5 .75 1 -> 3 + 1.
  std::vector<float> q(4, 0.25f);
  CHECK(coverage_k(q.data(), 4, 0.9, scratch) == 4);
  CHECK(coverage_k(q.data(), 4, 0.6, scratch) == 3);
  CHECK(coverage_k(q.data(), 4, 0.2, scratch) == 1);
}

TEST_CASE("one-hot rows: entropy 0, Gini (n-1)/n, Hoyer 1, coverage 1", "[analysis][row]") {
  std::vector<float> scratch;
  std::vector<uint32_t> keys;
  for (int n : {2, 3, 10, 700}) {
    std::vector<float> a(size_t(n), 0.0f);
    a[size_t(n / 2)] = 1.0f;
    CHECK(row_entropy(a.data(), n) == 0.0);
    CHECK(coverage_k(a.data(), n, 0.9, scratch) == 1);
    GiniStats s = row_gini(a.data(), n, keys);
    CHECK(s.gini == Approx(double(n - 1) / n));
    CHECK(s.gini_free == Approx(1.0));
    CHECK(hoyer(a.data(), n) == Approx(1.0));
    CHECK(count_exact_zero(a.data(), n) == n - 1);
    CHECK(count_below_uniform(a.data(), n, 0.01) == n - 1);
  }
}

TEST_CASE("a skewed row: coverage, Gini and Hoyer by hand", "[analysis][row]") {
  std::vector<float> scratch;
  std::vector<uint32_t> keys;
  std::vector<float> a = {0.5f, 0.3f, 0.2f, 0.0f};
  // Descending .5 .3 .2 0: cumsums .5 .8 1 1 -> two at most .9 -> k = 3.
  CHECK(coverage_k(a.data(), 4, 0.9, scratch) == 3);
  GiniStats s = row_gini(a.data(), 4, keys);
  // Ascending 0 .2 .3 .5, weights 2i - n - 1 = -3 -1 1 3: (-.2 + .3 + 1.5) / 4 = 0.4.
  CHECK(s.gini == Approx(0.4));
  CHECK(s.gini_free == Approx(0.4 * 4 / 3));
  const double l2 = std::sqrt(0.25 + 0.09 + 0.04);
  CHECK(hoyer(a.data(), 4) == Approx((2.0 - 1.0 / l2) / 1.0));
  CHECK(row_entropy(a.data(), 4) ==
        Approx(-(0.5 * std::log(0.5) + 0.3 * std::log(0.3) + 0.2 * std::log(0.2))));
  CHECK(count_exact_zero(a.data(), 4) == 1);
  CHECK(count_below_uniform(a.data(), 4, 1.0) == 2);  // below 0.25: 0.2 and 0
}

TEST_CASE("proxy normalization keeps the raw mass and divides by sum |a|", "[analysis][row]") {
  std::vector<float> a = {0.2f, -0.2f, 0.6f};
  double raw = proxy_normalize(a.data(), 3);
  CHECK(raw == Approx(0.6));
  CHECK(a[0] == Approx(0.2));
  CHECK(a[1] == Approx(0.2));
  CHECK(a[2] == Approx(0.6));
  std::vector<float> z(3, 0.0f);
  CHECK(proxy_normalize(z.data(), 3) == 0.0);
  CHECK(z[0] == 0.0f);
}

TEST_CASE("key masks: counts agree with brute force, spec parsing", "[analysis][mask]") {
  const int T = 12;
  for (std::string spec : {"softmax", "window(size=3)", "softmax+window(size=3,sinks=2)",
                           "relu+window(size=1,sinks=1)", "softmax+block(size=4)",
                           "softpick+dilated(size=3,rate=2,sinks=1)"}) {
    INFO(spec);
    KeyMask m = KeyMask::from_spec(spec);
    m.prepare(T);
    for (int t = 0; t < T; ++t) {
      int n = 0;
      for (int j = 0; j <= t; ++j) n += m.visible(t, j);
      CHECK(m.visible_count(t) == n);
    }
    for (int k = 0; k < T; ++k) {
      int q = 0;
      for (int t = 0; t < T; ++t) q += m.visible(t, k);
      CHECK(m.queries_seeing(k, T) == q);
    }
  }
  KeyMask a = KeyMask::from_spec("softpick+window(size=64,sinks=4)");
  CHECK(a.visible(100, 3));
  CHECK_FALSE(a.visible(100, 4));
  CHECK(a.visible(100, 37));
  CHECK_FALSE(a.visible(100, 36));
  KeyMask c = KeyMask::from_spec("sigmoid(bias=-log_n)");
  CHECK(c.causal_only());
  CHECK(c.visible_count(9) == 10);
  CHECK(c.queries_seeing(2, 10) == 8);
}

namespace {

// The definitions as REFERENCE 5 writes them, on a fully sorted copy: the references the
// selection (coverage) and radix (Gini) paths must reproduce.
int coverage_by_sort(std::vector<float> a, double p) {
  std::sort(a.begin(), a.end(), std::greater<float>());
  double cum = 0;
  int at_most_p = 0;
  for (float x : a) {
    cum += x;
    if (cum <= p + 1e-6)
      ++at_most_p;
    else
      break;
  }
  return std::min(at_most_p + 1, int(a.size()));
}
// Gini as the mean absolute difference, sum_ij |a_i - a_j| / (2 n sum a): no ordering at all.
double gini_by_pairs(const std::vector<float>& a) {
  double diff = 0, total = 0;
  for (float x : a) {
    total += x;
    for (float y : a) diff += std::fabs(double(x) - double(y));
  }
  return total > 0 ? diff / (2.0 * double(a.size()) * total) : 0.0;
}

}  // namespace

TEST_CASE(
    "coverage by selection and Gini by radix sort equal the sorted definitions on random rows",
    "[analysis][row][property]") {
  Rng rng(11);
  std::vector<float> scratch;
  std::vector<uint32_t> keys;
  int rows = 0;
  for (int n : {2, 3, 7, 64, 511, 512, 1000, 2049})
    for (int kind = 0; kind < 6; ++kind)
      for (int rep = 0; rep < 6; ++rep) {
        std::vector<float> a(static_cast<size_t>(n));
        for (float& x : a) {
          const double u = rng.uniform();
          switch (kind) {
            case 0:
              x = float(std::exp(6.0 * rng.normal()));
              break;  // peaked softmax-like
            case 1:
              x = float(int(u * 4)) * 0.25f;
              break;  // few values: ties, zeros
            case 2:
              x = u < 0.7 ? 0.0f : float(u);
              break;  // mostly exact zeros
            case 3:
              x = float(rng.normal());
              break;  // signed (diff attention)
            case 4:
              x = 0.0f;
              break;  // zero-mass row
            default:
              x = 1.0f;
              break;  // uniform
          }
        }
        double total = 0;
        for (float x : a) total += x;
        if (kind != 3 && total > 0)
          for (float& x : a) x = float(x / total);  // normalized, as the analyzer feeds them
        for (double p : {0.5, 0.9, 0.99}) {
          INFO("n " << n << " kind " << kind << " rep " << rep << " p " << p);
          REQUIRE(coverage_k(a.data(), n, p, scratch) == coverage_by_sort(a, p));
        }
        const GiniStats g = row_gini(a.data(), n, keys);
        if (kind != 3) {  // the pair form equals the sorted one only for non-negative rows
          INFO("n " << n << " kind " << kind << " rep " << rep);
          REQUIRE(g.gini == Approx(gini_by_pairs(a)).margin(1e-9));
        }
        ++rows;
      }
  CHECK(rows == 8 * 6 * 6);
}

TEST_CASE("row_gini equals the sorted sum exactly, radix and comparison paths alike",
          "[analysis][row][property]") {
  Rng rng(5);
  std::vector<uint32_t> keys;
  for (int n : {100, 511, 512, 4096}) {
    std::vector<float> a(static_cast<size_t>(n));
    for (float& x : a) x = rng.uniform() < 0.2 ? -0.0f : float(std::fabs(rng.normal()));
    std::vector<float> s = a;
    std::sort(s.begin(), s.end());
    double total = 0, weighted = 0;
    for (int i = 0; i < n; ++i) {
      total += s[size_t(i)];
      weighted += double(2 * (i + 1) - n - 1) * s[size_t(i)];
    }
    CHECK(row_gini(a.data(), n, keys).gini == weighted / (double(n) * total));  // bit-identical
  }
}
