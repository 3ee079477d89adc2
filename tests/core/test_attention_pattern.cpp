// pattern() is what analysis sees, so it must be what the variant computes: pattern x V
// reproduces the output (where the variant says it does), normalized variants have rows that
// sum to 1, rows are zero at every key a mask hides, and pattern works after init alone.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/attention/mask.h"
#include "core/attention/spec.h"
#include "tests/core/attention_harness.h"

using namespace attnlab;

TEST_CASE("pattern x V reproduces every variant's output", "[attention][pattern]") {
  int n = 0;
  for (const std::string& spec : test::all_test_specs()) {
    INFO("spec " << spec);
    test::AttnCase c = test::make_attn_case(2, 2, 7, 4, 5, 900 + n++);
    auto a = test::build_variant(spec, c);
    std::vector<float> out = test::run_forward(*a, c);
    const int T = c.shape.T, Dh = c.shape.Dh;
    std::vector<float> rebuilt(out.size(), 0.0f);
    double worst_row_sum_err = 0.0;
    for (int b = 0; b < c.shape.B; ++b)
      for (int h = 0; h < c.shape.H; ++h) {
        const int64_t off = (int64_t(b) * c.shape.H + h) * T * Dh;
        int rows = 0;
        a->pattern(c.inputs(), b, h, [&](int t, const float* row) {
          REQUIRE(t == rows++);
          double sum = 0.0;
          for (int j = 0; j <= t; ++j) {
            sum += row[j];
            for (int d = 0; d < Dh; ++d) rebuilt[off + t * Dh + d] += row[j] * c.v[off + j * Dh + d];
          }
          worst_row_sum_err = std::max(worst_row_sum_err, std::fabs(sum - 1.0));
        });
        CHECK(rows == T);
      }
    if (a->normalized_rows()) CHECK(worst_row_sum_err < 1e-5);
    if (a->pattern_reproduces_output()) CHECK(test::max_rel_error(rebuilt, out, 1e-3) < 1e-5);
  }
}

TEST_CASE("masked keys get zero weight in every mask-taking variant", "[attention][pattern]") {
  const std::string masks = "+window(size=3,sinks=1)+dilated(size=4,rate=1)";
  MaskSet set;
  for (const SpecTerm& t : parse_spec("softmax" + masks))
    if (MaskSet::is_mask(t.name)) set.add(t);
  for (const VariantInfo& v : attention_variants()) {
    std::string spec = v.test_specs.front() + masks;
    test::AttnCase c = test::make_attn_case(1, 2, 9, 4, 5, 31);
    std::unique_ptr<Attention> a;
    try {
      a = test::build_variant(spec, c);
    } catch (const std::exception&) {
      continue;  // variants without mask support are covered by the spec-error tests
    }
    INFO("spec " << spec);
    test::run_forward(*a, c);
    for (int h = 0; h < 2; ++h)
      a->pattern(c.inputs(), 0, h, [&](int t, const float* row) {
        for (int j = 0; j <= t; ++j)
          if (!set.visible(t, j)) CHECK(row[j] == 0.0f);
      });
  }
}

TEST_CASE("pattern_rows(first) streams exactly pattern()'s rows from first on", "[attention][pattern]") {
  // T = 150 spans several of the score engine's pattern tiles; `first` inside one and on a
  // boundary; the linear family takes the default (compute all, skip the early rows).
  int n = 0;
  for (const std::string spec : {"softmax", "softmax+window(size=40,sinks=2)", "fox", "linear(chunk=8)"}) {
    INFO("spec " << spec);
    test::AttnCase c = test::make_attn_case(1, 2, 150, 8, 16, 70 + n++);
    auto a = test::build_variant(spec, c);
    test::run_forward(*a, c);
    for (int first : {0, 64, 100, 149}) {
      std::vector<std::vector<float>> all, some;
      a->pattern(c.inputs(), 0, 1, [&](int t, const float* row) { all.emplace_back(row, row + t + 1); });
      int expect = first;
      a->pattern_rows(c.inputs(), 0, 1, first, [&](int t, const float* row) {
        REQUIRE(t == expect++);
        some.emplace_back(row, row + t + 1);
      });
      REQUIRE(some.size() == size_t(150 - first));
      for (size_t i = 0; i < some.size(); ++i) CHECK(some[i] == all[size_t(first) + i]);
    }
  }
}

TEST_CASE("a variant that says it does not read x computes the same without it", "[attention][pattern]") {
  // An inference forward passes x = null to such variants (Block::infer frees the normalized
  // input): their output and pattern must not change, and a variant reading x must say so.
  int n = 0, without_x = 0;
  for (const std::string& spec : test::all_test_specs()) {
    INFO("spec " << spec);
    test::AttnCase c = test::make_attn_case(1, 2, 9, 4, 5, 300 + n++);
    auto a = test::build_variant(spec, c);
    const std::vector<float> with = test::run_forward(*a, c);
    if (a->reads_input()) continue;
    ++without_x;
    AttnInputs in = c.inputs();
    in.x = nullptr;
    std::vector<float> out(with.size());
    a->forward(in, out.data());
    CHECK(out == with);
    for (int h = 0; h < 2; ++h) {
      std::vector<std::vector<float>> rows_with, rows_without;
      a->pattern(c.inputs(), 0, h, [&](int t, const float* r) { rows_with.emplace_back(r, r + t + 1); });
      a->pattern(in, 0, h, [&](int t, const float* r) { rows_without.emplace_back(r, r + t + 1); });
      CHECK(rows_with == rows_without);
    }
  }
  CHECK(without_x > 10);  // the score engine and the plain linear family
}
