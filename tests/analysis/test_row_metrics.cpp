// Row statistics on hand-built rows with known answers (REFERENCE 4 and 5).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "analysis/key_mask.h"
#include "analysis/row_metrics.h"

using namespace attnlab;


TEST_CASE("uniform rows: entropy log n, Gini 0, Hoyer 0, full coverage", "[analysis][row]") {
  std::vector<float> scratch;
  for (int n : {1, 2, 5, 8, 37}) {
    std::vector<float> a(size_t(n), 1.0f / float(n));
    CHECK(row_entropy(a.data(), n) == Approx(std::log(double(n))).margin(1e-6));
    SortedRowStats s = sorted_row_stats(a.data(), n, 0.9, scratch);
    CHECK(s.gini == Approx(0.0).margin(1e-6));
    CHECK(s.gini_free == Approx(0.0).margin(1e-6));
    CHECK(hoyer(a.data(), n) == Approx(0.0).margin(1e-6));
    CHECK(count_exact_zero(a.data(), n) == 0);
    CHECK(count_below_uniform(a.data(), n, 0.1) == 0);
  }
  // k_0.9 = #{i : cumsum_i <= 0.9} + 1: four keys of 0.25 give cumsums .25 .5 .75 1 -> 3 + 1.
  std::vector<float> q(4, 0.25f);
  CHECK(sorted_row_stats(q.data(), 4, 0.9, scratch).coverage_k == 4);
  CHECK(sorted_row_stats(q.data(), 4, 0.6, scratch).coverage_k == 3);
  CHECK(sorted_row_stats(q.data(), 4, 0.2, scratch).coverage_k == 1);
}

TEST_CASE("one-hot rows: entropy 0, Gini (n-1)/n, Hoyer 1, coverage 1", "[analysis][row]") {
  std::vector<float> scratch;
  for (int n : {2, 3, 10}) {
    std::vector<float> a(size_t(n), 0.0f);
    a[size_t(n / 2)] = 1.0f;
    CHECK(row_entropy(a.data(), n) == 0.0);
    SortedRowStats s = sorted_row_stats(a.data(), n, 0.9, scratch);
    CHECK(s.coverage_k == 1);
    CHECK(s.gini == Approx(double(n - 1) / n));
    CHECK(s.gini_free == Approx(1.0));
    CHECK(hoyer(a.data(), n) == Approx(1.0));
    CHECK(count_exact_zero(a.data(), n) == n - 1);
    CHECK(count_below_uniform(a.data(), n, 0.01) == n - 1);
  }
}

TEST_CASE("a skewed row: coverage, Gini and Hoyer by hand", "[analysis][row]") {
  std::vector<float> scratch;
  std::vector<float> a = {0.5f, 0.3f, 0.2f, 0.0f};
  SortedRowStats s = sorted_row_stats(a.data(), 4, 0.9, scratch);
  // Descending .5 .3 .2 0: cumsums .5 .8 1 1 -> two at most .9 -> k = 3.
  CHECK(s.coverage_k == 3);
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
