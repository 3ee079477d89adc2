// The observer end to end on stand-in attention (known matrices), the residual-stream census
// and the HeadTable writers.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/analyzer.h"
#include "core/tensor/error.h"
#include "tests/analysis/fixed_pattern.h"
#include "tests/test_support.h"

using namespace attnlab;


namespace {

// Feeds one layer of hand-built patterns through the observer, as the model would.
void feed(AttentionAnalyzer& a, int layer, const Attention& attn, int H, int T,
          const std::vector<float>& v) {
  AttnInputs in;
  in.shape = {1, H, T, 2};
  in.v = v.data();
  in.q = in.k = v.data();
  a.on_attention({layer, &attn, &in});
}

}  // namespace

TEST_CASE("analyzer: per-head table from stand-in patterns, Sink_1 over heads", "[analysis][observer]") {
  const int T = 8, H = 2, L = 2;
  std::vector<float> v(size_t(H) * T * 2, 1.0f);
  for (int d = 0; d < 2; ++d) v[size_t(d)] = 0.0f;  // head 0, position 0: a drained value (norm 0)
  test::FixedPattern sink({test::one_hot_rows(T, [](int) { return 0; }), test::uniform_causal(T)}, T);
  test::FixedPattern prev({test::one_hot_rows(T, [](int t) { return t ? t - 1 : 0; }),
                           test::one_hot_rows(T, [](int t) { return t; })}, T);
  std::vector<int32_t> tokens(T);
  for (int t = 0; t < T; ++t) tokens[size_t(t)] = t;
  AttentionAnalyzer a(L, H);
  a.set_tokens(tokens.data(), 1, T);
  feed(a, 0, sink, H, T, v);
  feed(a, 1, prev, H, T, v);
  HeadTable tab = a.table();
  CHECK(tab.get("alpha1", 0, 0) == Approx(1.0));
  CHECK(tab.get("sink1_frac", 0, 0) == 1.0);
  // Uniform rows at T = 8 also count: alpha_1 = H_8 / 8 = 0.3397 > 0.3 (why Gu et al. fix T).
  CHECK(tab.get("alpha1", 0, 1) == Approx(2.717857142857143 / 8));
  CHECK(tab.get("sink1_frac", 0, 1) == 1.0);
  CHECK(tab.get("sink1_frac", 1, 0) == 0.0);
  CHECK(tab.get("prev_token", 1, 0) == Approx(1.0));
  CHECK(tab.get("norm_entropy", 0, 1) == Approx(1.0));
  CHECK(tab.get("value_norm1", 0, 0) == 0.0);
  CHECK(tab.get("value_norm1", 0, 1) == Approx(std::sqrt(2.0)));
  CHECK(tab.get("value_norm1_ratio", 0, 0) == 0.0);
  // Sink_1^0.3 in %: heads with alpha_1 > 0.3 over all L x H heads.
  int sinks = 0;
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h) sinks += tab.get("alpha1", l, h) > 0.3;
  CHECK(tab.scalar("sink_k1_pct") == Approx(100.0 * sinks / (L * H)));
  CHECK(tab.head_vector("alpha", 0, 0).size() == size_t(T));
  CHECK(sink_k_percent(tab, 1) == Approx(tab.scalar("sink_k1_pct")));
  CHECK(sink_k_percent(tab, 8) == Approx(tab.scalar("sink_k8_pct")));
  CHECK_THROWS_AS(sink_k_percent(tab, 9), Error);
  CHECK(tab.meta("attention") == "fixed;fixed");
}

TEST_CASE("analyzer: windowed spec is read from the variant", "[analysis][observer][mask]") {
  const int T = 10, H = 1;
  KeyMask mask = KeyMask::window(2, 1);
  mask.prepare(T);
  std::vector<float> m(size_t(T) * T, 0.0f);
  for (int t = 0; t < T; ++t)
    for (int j = 0; j <= t; ++j)
      if (mask.visible(t, j)) m[size_t(t) * T + j] = 1.0f / float(mask.visible_count(t));
  test::FixedPattern w({m}, T, "softmax+window(size=2,sinks=1)");
  std::vector<float> v(size_t(T) * 2, 1.0f);
  AttentionAnalyzer a(1, H);
  feed(a, 0, w, H, T, v);
  HeadTable tab = a.table();
  CHECK(tab.get("norm_entropy", 0, 0) == Approx(1.0));
  CHECK(tab.get("zero_frac", 0, 0) == 0.0);
}

TEST_CASE("analyzer: massive activations and residual norms", "[analysis][observer][massive]") {
  const int T = 6, D = 1000;
  Tensor h({1, T, D}, 0.01f);
  h.data[size_t(0) * D + 7] = -1500.0f;  // token 0, dim 7: |h| > 100 and >= 1000 x median 0.01
  h.data[size_t(3) * D + 2] = 50.0f;     // large but not > 100
  AttentionAnalyzer a(1, 1);
  a.on_residual(-1, h);
  a.on_residual(0, h);
  HeadTable tab = a.table();
  CHECK(tab.layer_value("resid_top1", 0) == Approx(1500.0));
  CHECK(tab.layer_value("resid_top2", 0) == Approx(50.0));
  CHECK(tab.layer_value("resid_top1_pos", 0) == 0);
  CHECK(tab.layer_value("resid_top1_dim", 0) == 7);
  CHECK(tab.layer_value("resid_median", 0) == Approx(0.01));
  CHECK(tab.layer_value("massive_count", 0) == 1);
  CHECK(tab.layer_value("massive_count", -1) == 1);
  const std::vector<double>& n = tab.layer_vector("resid_norm", 0);
  REQUIRE(n.size() == size_t(T));
  CHECK(n[1] == Approx(std::sqrt(D * 1e-4)));
  CHECK(n[0] == Approx(std::sqrt((D - 1) * 1e-4 + 1500.0 * 1500.0)));
}

TEST_CASE("HeadTable: JSON round trip, CSV, printing, bad lookups", "[analysis][table]") {
  HeadTable t(2, 3);
  t.set("alpha1", 1, 2, 0.75);
  t.set("entropy", 0, 0, 1.5);
  t.set_head_vector("alpha", 1, 2, {0.75, 0.1});
  t.set_layer_value("resid_top1", -1, 3.0);
  t.set_scalar("sink_k1_pct", 16.5);
  t.set_meta("probe", "sink");
  HeadTable r = HeadTable::from_json(nlohmann::json::parse(t.to_json().dump()));
  CHECK(r.get("alpha1", 1, 2) == 0.75);
  CHECK(std::isnan(r.get("alpha1", 0, 0)));
  CHECK(r.head_vector("alpha", 1, 2) == std::vector<double>{0.75, 0.1});
  CHECK(r.layer_value("resid_top1", -1) == 3.0);
  CHECK(r.scalar("sink_k1_pct") == 16.5);
  CHECK(r.meta("probe") == "sink");
  CHECK(r.metrics() == std::vector<std::string>{"alpha1", "entropy"});

  auto dir = test::temp_dir("headtable");
  t.write_csv((dir / "t.csv").string());
  std::ifstream f(dir / "t.csv");
  std::string header, row0;
  std::getline(f, header);
  std::getline(f, row0);
  CHECK(header == "layer,head,alpha1,entropy");
  CHECK(row0 == "0,0,,1.5");
  t.write_json((dir / "t.json").string());
  std::ifstream jf(dir / "t.json");
  CHECK(HeadTable::from_json(nlohmann::json::parse(jf)).get("entropy", 0, 0) == 1.5);
  // write_json streams the vectors: the file is the same document as to_json(), digits that
  // read back to the same doubles, NaN as null.
  t.set_head_vector("alpha", 0, 1, {1.0 / 3.0, std::nan(""), 1e-300, 2.0});
  t.set_layer_vector("resid_norm", 0, {5.5, 0.1});
  t.write_json((dir / "t2.json").string());
  std::ifstream jf2(dir / "t2.json");
  CHECK(nlohmann::json::parse(jf2) == t.to_json());
  std::ifstream jf3(dir / "t2.json");
  HeadTable back = HeadTable::from_json(nlohmann::json::parse(jf3));
  CHECK(back.head_vector("alpha", 0, 1)[0] == 1.0 / 3.0);
  CHECK(std::isnan(back.head_vector("alpha", 0, 1)[1]));
  CHECK(back.head_vector("alpha", 0, 1)[2] == 1e-300);
  CHECK(back.layer_vector("resid_norm", 0) == std::vector<double>{5.5, 0.1});

  std::ostringstream os;
  t.print(os);
  CHECK(os.str().find("L1H2") != std::string::npos);
  CHECK(os.str().find("0.75") != std::string::npos);

  CHECK_THROWS_AS(t.get("alpha1", 2, 0), Error);
  CHECK_THROWS_AS(t.get("nope", 0, 0), Error);
  CHECK_THROWS_AS(HeadTable::from_json(nlohmann::json::parse("{\"n_layers\": 1}")), Error);
}
