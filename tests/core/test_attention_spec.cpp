// Spec strings: parsing, canonical round trips, the error messages for unknown names,
// parameters and bad values, and the mask semantics (checked against core/cuda/mask.h).
#include <catch2/catch.hpp>

#include "core/attention/mask.h"
#include "core/attention/spec.h"
#include "core/cuda/mask.h"
#include "core/tensor/error.h"
#include "tests/core/attention_harness.h"

using namespace attnlab;
using Catch::Matchers::Contains;

namespace {
AttnBuildContext ctx() {
  AttnBuildContext c;
  c.n_heads = 2;
  c.head_dim = 4;
  c.d_model = 8;
  return c;
}
}  // namespace

TEST_CASE("spec parser splits names, arguments and mask modifiers", "[attention][spec]") {
  auto t = parse_spec(" softpick(eps=1e-6) + window(size=64, sinks=4)+block(size=8)");
  REQUIRE(t.size() == 3);
  CHECK(t[0].name == "softpick");
  CHECK(t[0].args == std::vector<std::pair<std::string, std::string>>{{"eps", "1e-6"}});
  CHECK(t[1].name == "window");
  CHECK(t[1].args.size() == 2);
  CHECK(t[1].args[1].second == "4");
  CHECK(t[2].name == "block");
  CHECK(parse_spec("softmax()").front().args.empty());
  for (const char* bad : {"", "(size=1)", "window(size=1", "window(size)", "window(size=)",
                          "window(size=1,size=2)", "softmax+", "soft max", "a(b=1)c"})
    CHECK_THROWS_AS(parse_spec(bad), Error);
}

TEST_CASE("every registered test spec builds and its canonical spec round-trips",
          "[attention][spec]") {
  CHECK(attention_variants().size() >= 4);
  for (const std::string& s : test::all_test_specs()) {
    INFO("spec " << s);
    auto a = make_attention(s, ctx());
    auto b = make_attention(a->spec(), ctx());
    CHECK(b->spec() == a->spec());
  }
  CHECK(make_attention("window(size=64,sinks=4)", ctx())->spec() == "window(size=64,sinks=4)");
  CHECK(make_attention("sigmoid", ctx())->spec() == "sigmoid(bias=-log_n,norm=false)");
  CHECK(make_attention("softpick+block(size=8)", ctx())->spec() == "softpick(eps=1e-08)+block(size=8)");
}

TEST_CASE("bad specs give errors naming what exists", "[attention][spec]") {
  // Unknown variant: the message lists every registered variant.
  try {
    make_attention("softmaxx", ctx());
    FAIL("no error");
  } catch (const Error& e) {
    for (const VariantInfo& v : attention_variants()) CHECK_THAT(e.what(), Contains(v.name));
    CHECK_THAT(e.what(), Contains("softmaxx"));
  }
  // Unknown parameter: the message lists that variant's parameters.
  CHECK_THROWS_WITH(make_attention("window(size=4,sink=1)", ctx()),
                    Contains("unknown parameter 'sink'") && Contains("size") && Contains("sinks"));
  CHECK_THROWS_WITH(make_attention("softmax(temperature=2)", ctx()), Contains("temperature"));
  CHECK_THROWS_WITH(make_attention("sigmoid(norm=maybe)", ctx()), Contains("true or false"));
  CHECK_THROWS_WITH(make_attention("sigmoid(bias=-log_x)", ctx()), Contains("-log_n"));
  CHECK_THROWS_WITH(make_attention("window(size=0)", ctx()), Contains("size"));
  CHECK_THROWS_WITH(make_attention("window(sinks=2)", ctx()), Contains("required"));
  CHECK_THROWS_WITH(make_attention("topk(k=2.5)", ctx()), Contains("integer"));
  CHECK_THROWS_WITH(make_attention("softmax+foo(size=2)", ctx()), Contains("mask"));
  CHECK_THROWS_WITH(make_attention("softmax+block(size=-1)", ctx()), Contains("size"));
  CHECK_THROWS_WITH(make_attention("softmax+window(size=4,rate=2)", ctx()), Contains("rate"));
  CHECK_THROWS_WITH(make_attention("gla+window(size=4)", ctx()), Contains("does not take mask"));
  CHECK_THROWS_WITH(make_attention("linear(feature=cosine)", ctx()), Contains("elu1"));
  CHECK_THROWS_WITH(make_attention("kv_bias(v=maybe)", ctx()), Contains("learned"));
  AttnBuildContext odd = ctx();
  odd.head_dim = 5;
  CHECK_THROWS_WITH(make_attention("diff", odd), Contains("even"));
  AttnBuildContext bad = ctx();
  bad.n_heads = 0;
  CHECK_THROWS_AS(make_attention("softmax", bad), Error);
}

TEST_CASE("shape mismatches and backward without forward are errors", "[attention][spec]") {
  auto a = make_attention("softmax", ctx());
  test::AttnCase c = test::make_attn_case(1, 3, 4, 4, 8, 1);  // 3 heads, built for 2
  std::vector<float> out(c.q.size());
  CHECK_THROWS_AS(a->forward(c.inputs(), out.data()), Error);
  test::AttnCase ok = test::make_attn_case(1, 2, 4, 4, 8, 1);
  std::vector<float> g(ok.q.size());
  CHECK_THROWS_AS(a->backward(ok.inputs(), ok.dout.data(), {g.data(), g.data(), g.data(), nullptr}),
                  Error);
}

TEST_CASE("window mask agrees with the CUDA kernels' visibility rule", "[attention][spec]") {
  for (int w : {1, 2, 5}) {
    for (int s : {0, 1, 3}) {
      MaskSet m;
      m.add(MaskRule{MaskRule::window, w, s, 1});
      for (int t = 0; t < 12; ++t) {
        int count = 0;
        for (int j = 0; j < 12; ++j) {
          CHECK(m.visible(t, j) == cuda::key_visible(t, j, w, s));
          count += m.visible(t, j);
        }
        CHECK(count == cuda::visible_count(t, w, s));
      }
    }
  }
  MaskSet blk;
  blk.add(MaskRule{MaskRule::block, 4, 0, 1});
  CHECK(blk.visible(5, 4));
  CHECK(!blk.visible(5, 3));
  MaskSet dil;
  dil.add(MaskRule{MaskRule::dilated, 3, 1, 2});  // keys t, t-2, t-4 and key 0
  CHECK(dil.visible(9, 9));
  CHECK(dil.visible(9, 7));
  CHECK(dil.visible(9, 5));
  CHECK(!dil.visible(9, 3));
  CHECK(!dil.visible(9, 8));
  CHECK(dil.visible(9, 0));
}
