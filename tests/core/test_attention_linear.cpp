// The linear / recurrent family: the chunked parallel form that forward() uses and the
// token-by-token recurrence agree within 1e-5 for every registered linear variant, at chunk
// lengths that do and do not divide T; based reproduces its closed form 1 + s + s^2/2.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/attention/linear_family.h"
#include "tests/core/attention_harness.h"

using namespace attnlab;

TEST_CASE("linear variants: parallel (chunked) and recurrent forms agree", "[attention][linear]") {
  int checked = 0;
  for (const VariantInfo& v : attention_variants())
    for (const std::string& base : v.test_specs) {
      test::AttnCase c = test::make_attn_case(2, 2, 11, 4, 5, 77 + checked);
      auto probe = test::build_variant(base, c);
      if (!dynamic_cast<LinearFamily*>(probe.get())) continue;
      std::string name = base.substr(0, base.find('('));
      for (int chunk : {1, 3, 4, 16}) {
        std::string spec = probe->spec();
        spec = spec.substr(0, spec.rfind("chunk=")) + "chunk=" + std::to_string(chunk) + ")";
        INFO("spec " << spec);
        auto a = test::build_variant(spec, c);
        auto* lin = dynamic_cast<LinearFamily*>(a.get());
        REQUIRE(lin);
        std::vector<float> par = test::run_forward(*a, c), rec(par.size());
        lin->forward_recurrent(c.inputs(), rec.data());
        CHECK(test::max_rel_error(par, rec, 1e-3) < 1e-5);
      }
      ++checked;
    }
  CHECK(checked >= 6);
}

TEST_CASE("based's pattern is the normalized 1 + s + s^2/2 matrix", "[attention][linear]") {
  test::AttnCase c = test::make_attn_case(1, 1, 6, 4, 3, 5);
  auto a = test::build_variant("based(chunk=2)", c);
  test::run_forward(*a, c);
  a->pattern(c.inputs(), 0, 0, [&](int t, const float* row) {
    std::vector<double> w(t + 1);
    double z = 0.0;
    for (int j = 0; j <= t; ++j) {
      double s = 0.0;
      for (int d = 0; d < 4; ++d) s += double(c.q[t * 4 + d]) * c.k[j * 4 + d];
      s /= 2.0;  // sqrt(Dh)
      w[j] = 1.0 + s + 0.5 * s * s;
      z += w[j];
    }
    for (int j = 0; j <= t; ++j) CHECK(row[j] == Approx(w[j] / z).epsilon(1e-5));
  });
}
