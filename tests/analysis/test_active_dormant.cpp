// Active-dormant statistics (Guo et al. 2024) on hand-built patterns, values and scores: a
// dormant-on-plain / active-on-trigger head against a uniform one, with the answers worked out.
#include <catch2/catch.hpp>
#include <cmath>

#include "analysis/active_dormant.h"
#include "tests/analysis/fixed_pattern.h"

using namespace attnlab;

namespace {

// tokens: BOS(9) a(1) trigger(2) b(3). Head 0 is active-dormant: plain queries -> BOS, the
// trigger query -> t-1. Head 1 is uniform. Values [H, T, Dh=2]: head 0 has |v_0| = 1 and
// |v_j| = 2 after it (a drain, ratio 0.5); head 1 all norm 1. Head 0's BOS key scores sqrt(2)
// against every query (q = (1,0), k_0 = (2,0), other keys 0); head 1 scores all 0.
struct Case {
  static constexpr int T = 4, H = 2, Dh = 2;
  std::vector<int32_t> tokens = {9, 1, 2, 3};
  std::vector<float> q, k, v;
  Case() : q(size_t(H) * T * Dh, 0.0f), k(q.size(), 0.0f), v(q.size(), 0.0f) {
    for (int h = 0; h < H; ++h)
      for (int t = 0; t < T; ++t) {
        float* vt = &v[(size_t(h) * T + t) * Dh];
        vt[0] = (h == 0 && t > 0) ? 2.0f : 1.0f;
        if (h == 0) q[(size_t(h) * T + t) * Dh] = 1.0f;
      }
    k[0] = 2.0f;  // head 0, key 0
  }
  HeadTable run(float row_scale, bool normalized) {
    auto dormant = test::one_hot_rows(T, [](int t) { return t == 2 ? 1 : 0; });
    auto uniform = test::uniform_causal(T);
    for (float& x : dormant) x *= row_scale;
    for (float& x : uniform) x *= row_scale;
    test::FixedPattern attn({dormant, uniform}, T, "fixed", normalized);
    std::vector<char> trig(10, 0);
    trig[2] = 1;
    ActiveDormantStats st(1, H, trig);
    st.set_tokens(tokens.data(), 1, T);
    AttnInputs in;
    in.shape = {1, H, T, Dh};
    in.q = q.data();
    in.k = k.data();
    in.v = v.data();
    st.on_attention({0, &attn, &in});
    return st.table();
  }
};

}  // namespace

TEST_CASE("active-dormant: BOS mass by query kind, value drain and score gap",
          "[analysis][active_dormant]") {
  Case c;
  HeadTable t = c.run(1.0f, true);
  CHECK(t.get("bos_mass_nontrigger", 0, 0) == Approx(1.0));
  CHECK(t.get("bos_mass_trigger", 0, 0) == Approx(0.0));
  CHECK(t.get("prev_mass_trigger", 0, 0) == Approx(1.0));
  CHECK(t.get("bos_mass_contrast", 0, 0) == Approx(1.0));
  CHECK(t.get("bos_value_ratio", 0, 0) == Approx(0.5));
  CHECK(t.get("bos_score_gap", 0, 0) == Approx(std::sqrt(2.0)));
  // Uniform head: plain queries t = 1, 3 give 1/2 and 1/4; the trigger query t = 2 gives 1/3.
  CHECK(t.get("bos_mass_nontrigger", 0, 1) == Approx(0.375));
  CHECK(t.get("bos_mass_trigger", 0, 1) == Approx(1.0 / 3));
  CHECK(t.get("prev_mass_trigger", 0, 1) == Approx(1.0 / 3));
  CHECK(t.get("bos_mass_contrast", 0, 1) == Approx(0.375 - 1.0 / 3));
  CHECK(t.get("bos_value_ratio", 0, 1) == Approx(1.0));
  CHECK(t.get("bos_score_gap", 0, 1) == Approx(0.0));
}

TEST_CASE("active-dormant: unnormalized rows are read proxy-normalized",
          "[analysis][active_dormant]") {
  Case c;
  HeadTable t = c.run(3.0f, false);
  CHECK(t.get("bos_mass_nontrigger", 0, 0) == Approx(1.0));
  CHECK(t.get("bos_mass_nontrigger", 0, 1) == Approx(0.375));
  CHECK(t.get("prev_mass_trigger", 0, 1) == Approx(1.0 / 3));
}

TEST_CASE("active-dormant: a forward whose shape differs from set_tokens is an error",
          "[analysis][active_dormant]") {
  Case c;
  test::FixedPattern attn({test::uniform_causal(4), test::uniform_causal(4)}, 4);
  ActiveDormantStats st(1, 2, std::vector<char>(10, 0));
  st.set_tokens(c.tokens.data(), 1, 3);
  AttnInputs in;
  in.shape = {1, 2, 4, 2};
  in.q = c.q.data();
  in.k = c.k.data();
  in.v = c.v.data();
  CHECK_THROWS_WITH(st.on_attention({0, &attn, &in}), Catch::Contains("set_tokens"));
}
