// Per-head streaming statistics on hand-built attention matrices with known answers: uniform
// rows, a first-token sink, a previous-token head, an induction head on a repeated sequence,
// a duplicate-token head, windowed masks and unnormalized rows.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "analysis/head_stats.h"
#include "tests/analysis/fixed_pattern.h"

using namespace attnlab;


namespace {

HeadSummary run(const std::vector<float>& m, int T, const std::vector<int32_t>* tokens = nullptr,
                const KeyMask& mask = KeyMask(), bool normalized = true, int sequences = 1) {
  HeadStats hs;
  for (int s = 0; s < sequences; ++s) {
    hs.begin_sequence(tokens ? tokens->data() : nullptr, T, mask, normalized);
    for (int t = 0; t < T; ++t) hs.add_row(t, m.data() + size_t(t) * T);
    hs.end_sequence();
  }
  return hs.summary();
}

// BOS, then a block of K distinct tokens repeated R times (Anthropic prefix-matching input).
std::vector<int32_t> repeated_tokens(int K, int R) {
  std::vector<int32_t> x = {0};
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < K; ++i) x.push_back(10 + i);
  return x;
}

}  // namespace

TEST_CASE("uniform causal rows", "[analysis][head]") {
  const int T = 16;
  HeadSummary s = run(test::uniform_causal(T), T);
  // alpha_k = sum_{t>=k} 1/(t+1) / (T - k) (Gu et al. with 0-based k).
  for (int k = 0; k < T; ++k) {
    double want = 0;
    for (int t = k; t < T; ++t) want += 1.0 / (t + 1);
    CHECK(s.alpha[size_t(k)] == Approx(want / (T - k)));
  }
  double mass = 0, ent = 0;
  for (int t = 0; t < T; ++t) {
    mass += 1.0 / (t + 1);
    ent += std::log(double(t + 1));
  }
  CHECK(s.sink_mass == Approx(mass / T));
  CHECK(s.entropy == Approx(ent / T));
  CHECK(s.norm_entropy == Approx(1.0));
  CHECK(s.gini == Approx(0.0).margin(1e-6));
  CHECK(s.hoyer == Approx(0.0).margin(1e-6));
  CHECK(s.zero_frac == 0.0);
  CHECK(s.below_frac[0] == 0.0);
  CHECK(s.row_mass == Approx(1.0));
  CHECK(s.rows == T);
  // Only key 0 at T = 16 has alpha > 0.3 (alpha_0 = H_16 / 16 = 0.2106...): no sink at all.
  CHECK(s.sink_frac[0] == 0.0);
}

TEST_CASE("first-token sink: alpha_1 = 1, Sink_1 = 1, sparsity at its extreme", "[analysis][head]") {
  const int T = 10;
  HeadSummary s = run(test::one_hot_rows(T, [](int) { return 0; }), T, nullptr, {}, true, 3);
  CHECK(s.alpha[0] == Approx(1.0));
  for (int k = 1; k < T; ++k) CHECK(s.alpha[size_t(k)] == 0.0);
  CHECK(s.sink_frac[0] == 1.0);
  CHECK(s.sink_frac[1] == 0.0);
  CHECK(s.sink_mass == Approx(1.0));
  CHECK(s.entropy == 0.0);
  CHECK(s.norm_entropy == 0.0);
  CHECK(s.gini_free == Approx(1.0));
  CHECK(s.hoyer == Approx(1.0));
  // Visible entries T(T+1)/2 = 55, of which T = 10 are ones.
  CHECK(s.zero_frac == Approx(45.0 / 55.0));
  double cov = 0;
  for (int n = 2; n <= T; ++n) cov += 1.0 / n;
  CHECK(s.coverage_mean == Approx(cov / (T - 1)));
  CHECK(s.sequences == 3);
  CHECK(s.prev_token == Approx(1.0 / (T - 1)));  // only row 1 has key 0 as its previous token
}

TEST_CASE("Sink uses '>' eps, not '>='", "[analysis][head]") {
  // Every row gives key 0 exactly 0.5 except row 0 (1.0): alpha_0 = (1 + 0.5 (T-1)) / T.
  const int T = 5;
  std::vector<float> m(size_t(T) * T, 0.0f);
  m[0] = 1.0f;
  for (int t = 1; t < T; ++t) {
    m[size_t(t) * T] = 0.5f;
    m[size_t(t) * T + t] = 0.5f;
  }
  HeadStats hs(MetricOptions{0.6, 0.9, {0.1}});  // alpha_0 = 3/5 = 0.6 exactly: not > 0.6
  hs.begin_sequence(nullptr, T, {}, true);
  for (int t = 0; t < T; ++t) hs.add_row(t, m.data() + size_t(t) * T);
  hs.end_sequence();
  CHECK(hs.summary().alpha[0] == Approx(0.6));
  CHECK(hs.summary().sink_frac[0] == 0.0);
}

TEST_CASE("pure previous-token head", "[analysis][head]") {
  const int T = 12;
  HeadSummary s = run(test::one_hot_rows(T, [](int t) { return t > 0 ? t - 1 : 0; }), T);
  CHECK(s.prev_token == Approx(1.0));
  CHECK(s.norm_entropy == 0.0);
}

TEST_CASE("pure induction head on a repeated sequence", "[analysis][head][induction]") {
  const int K = 5, R = 4;
  std::vector<int32_t> x = repeated_tokens(K, R);
  const int T = int(x.size());  // 21
  // Rows of the first copy (and BOS) rest on BOS; later rows attend to the token after the
  // previous occurrence of the current token (t - K + 1).
  auto m = test::one_hot_rows(T, [&](int t) { return t > K ? t - K + 1 : 0; });
  HeadSummary s = run(m, T, &x);
  CHECK(s.prefix_matching == Approx(1.0));
  // TL "mul": sum(A * P) / sum(A) = (rows with an induction target) / T.
  CHECK(s.tl_induction == Approx(double(T - K - 1) / T));
  CHECK(s.echo == 0.0);
  CHECK(s.tl_duplicate == 0.0);
  // A duplicate-token (echo) head on the same input: attend to the previous copy of x_t.
  auto d = test::one_hot_rows(T, [&](int t) { return t > K ? t - K : 0; });
  HeadSummary e = run(d, T, &x);
  CHECK(e.echo == Approx(1.0));
  CHECK(e.tl_duplicate == Approx(double(T - K - 1) / T));
  CHECK(e.prefix_matching == 0.0);
  // Uniform attention: each matched row gives the matching keys (#matches)/(t+1).
  HeadSummary u = run(test::uniform_causal(T), T, &x);
  double want = 0;
  int rows = 0;
  for (int t = K + 1; t < T; ++t) {
    int matches = 0;
    for (int j = 1; j < t; ++j) matches += x[size_t(j - 1)] == x[size_t(t)];
    want += double(matches) / (t + 1);
    ++rows;
  }
  CHECK(u.prefix_matching == Approx(want / rows));
}

TEST_CASE("windowed mask: visible keys set n_t; alpha keeps Gu's divisor", "[analysis][head][mask]") {
  const int T = 12;
  KeyMask mask = KeyMask::window(3, 1);  // key 0 plus the last 3 keys
  mask.prepare(T);
  std::vector<float> m(size_t(T) * T, 0.0f);
  for (int t = 0; t < T; ++t) {
    const int n = mask.visible_count(t);
    for (int j = 0; j <= t; ++j)
      if (mask.visible(t, j)) m[size_t(t) * T + j] = 1.0f / float(n);
  }
  HeadSummary s = run(m, T, nullptr, mask);
  CHECK(s.norm_entropy == Approx(1.0));  // uniform over the visible keys, whatever their count
  CHECK(s.zero_frac == 0.0);             // masked keys are not counted as zeros
  CHECK(s.gini == Approx(0.0).margin(1e-6));
  // Key 5 is seen by queries 5, 6, 7 (window 3), each giving it 1/4. Gu et al. divide the
  // column sum by T - k = 7 whatever the mask; the visible-query variant divides by 3.
  CHECK(s.alpha[5] == Approx(0.75 / 7));
  CHECK(s.alpha_visible[5] == Approx(0.25));
  // The sink key 0 is seen by every query.
  double a0 = 0;
  for (int t = 0; t < T; ++t) a0 += 1.0 / mask.visible_count(t);
  CHECK(s.alpha[0] == Approx(a0 / T));
}

TEST_CASE("unnormalized rows: proxy-normalized metrics, raw mass reported", "[analysis][head]") {
  const int T = 8;
  std::vector<float> m = test::uniform_causal(T);
  for (float& v : m) v *= 0.25f;
  HeadSummary s = run(m, T, nullptr, {}, false);
  HeadSummary u = run(test::uniform_causal(T), T);
  CHECK(s.row_mass == Approx(0.25));
  CHECK(s.norm_entropy == Approx(1.0));
  for (int k = 0; k < T; ++k) CHECK(s.alpha[size_t(k)] == Approx(u.alpha[size_t(k)]));
}

TEST_CASE("exact zeros of a sparse variant are counted, masked keys are not", "[analysis][head]") {
  const int T = 6;
  // Each row t >= 1: half on key t, half on key t-1, zeros elsewhere.
  std::vector<float> m(size_t(T) * T, 0.0f);
  m[0] = 1.0f;
  for (int t = 1; t < T; ++t) m[size_t(t) * T + t] = m[size_t(t) * T + t - 1] = 0.5f;
  HeadSummary s = run(m, T);
  // 21 visible entries, 1 + 2*5 = 11 nonzero.
  CHECK(s.zero_frac == Approx(10.0 / 21.0));
  CHECK(s.prev_token == Approx(0.5));
  CHECK(s.coverage_median == Approx(0.5));  // k_0.9 = 2 of n = 2 .. 6 -> 2/n, median 2/4
}

TEST_CASE("rows with zero mass leave the distribution metrics and are counted", "[analysis][head]") {
  const int T = 6;
  // Unnormalized rows: rows 1 and 3 are all zero, the others uniform with raw mass 2.
  std::vector<float> m(size_t(T) * T, 0.0f);
  for (int t = 0; t < T; ++t)
    if (t != 1 && t != 3)
      for (int j = 0; j <= t; ++j) m[size_t(t) * T + j] = 2.0f / float(t + 1);
  HeadSummary s = run(m, T, nullptr, {}, false);
  CHECK(s.empty_row_frac == Approx(2.0 / 6.0));
  CHECK(s.row_mass == Approx(8.0 / 6.0));
  // Uniform where there is mass: peaked-looking zeros are not averaged in.
  CHECK(s.norm_entropy == Approx(1.0));
  CHECK(s.zero_frac == 0.0);
  CHECK(s.gini == Approx(0.0).margin(1e-6));
  double ent = 0;
  for (int t : {0, 2, 4, 5}) ent += std::log(double(t + 1));
  CHECK(s.entropy == Approx(ent / 4));
  CHECK(s.row_mass_p10 == 0.0);
  CHECK(s.row_mass_p90 == Approx(2.0));
}

TEST_CASE("an all-zero head has no distribution: metrics undefined, not 0", "[analysis][head]") {
  const int T = 5;
  std::vector<float> m(size_t(T) * T, 0.0f);
  HeadSummary s = run(m, T, nullptr, {}, false, 3);
  CHECK(s.empty_row_frac == 1.0);
  CHECK(std::isnan(s.entropy));
  CHECK(std::isnan(s.norm_entropy));
  CHECK(std::isnan(s.gini));
  CHECK(s.alpha[0] == 0.0);
}

TEST_CASE("intervals over sequences: zero for identical sequences, t-based otherwise", "[analysis][head]") {
  const int T = 8;
  HeadSummary same = run(test::uniform_causal(T), T, nullptr, {}, true, 5);
  CHECK(same.ci95.at("entropy") == Approx(0.0).margin(1e-12));
  HeadSummary one = run(test::uniform_causal(T), T, nullptr, {}, true, 1);
  CHECK(std::isnan(one.ci95.at("entropy")));
  // Two sequences with sink mass 1 and 0: mean 0.5, sd 1/sqrt(2), t_{0.975,1} = 12.706.
  HeadStats hs;
  for (int s = 0; s < 2; ++s) {
    auto rows = test::one_hot_rows(T, [&](int t) { return s == 0 ? 0 : t; });
    hs.begin_sequence(nullptr, T, {}, true);
    for (int t = 0; t < T; ++t) hs.add_row(t, rows.data() + size_t(t) * T);
    hs.end_sequence();
  }
  HeadSummary two = hs.summary();
  // Per sequence sink mass: 1 and 1/8 (row 0 always rests on key 0).
  const double a = 1.0, b = 1.0 / 8, mean = (a + b) / 2, sd = std::fabs(a - b) / std::sqrt(2.0);
  CHECK(two.sink_mass == Approx(mean));
  CHECK(two.ci95.at("sink_mass") == Approx(12.706204736174707 * sd / std::sqrt(2.0)));
}
