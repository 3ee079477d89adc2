// The sparse-attention recall engine (analysis/sparse/): every pattern's per-row R, R*, set
// recall and output error against a float64 PyTorch oracle that builds each mask explicitly
// (tests/oracle/sparse_ref.py), plus the properties that hold for any input.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "analysis/sparse/recall_analyzer.h"
#include "analysis/sparse/rank_key.h"
#include "analysis/sparse/selector.h"
#include "core/attention/attention.h"
#include "core/io/safetensors.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "tests/test_support.h"

using namespace attnlab;

namespace {

constexpr int kH = 2, kDh = 16;

// One layer's random q, k, v [1, H, T, Dh]; q scaled up so rows are peaked, not near uniform.
struct Layer {
  int T;
  std::vector<float> q, k, v;
  std::unique_ptr<Attention> attn;
  AttnInputs in;
  Layer(int T_, const std::string& spec, uint64_t seed, float q_scale = 3.0f) : T(T_) {
    const size_t n = size_t(kH) * T * kDh;
    q = test::random_normal(n, seed, q_scale);
    k = test::random_normal(n, seed + 1);
    v = test::random_normal(n, seed + 2);
    AttnBuildContext ctx;
    ctx.n_heads = kH;
    ctx.head_dim = kDh;
    ctx.d_model = kH * kDh;
    ctx.context = T;
    attn = make_attention(spec, ctx);
    in.shape = {1, kH, T, kDh};
    in.q = q.data();
    in.k = k.data();
    in.v = v.data();
    in.keep_for_backward = false;
  }
  LayerAttentionView view() const { return {0, attn.get(), &in}; }
};

Tensor as_tensor(const std::vector<float>& x, int T) {
  Tensor t({kH, T, kDh});
  t.data = x;
  return t;
}

// Every row of every pattern: [pattern][h][t].
using Rows = std::vector<std::vector<std::vector<RowRecall>>>;

Rows run_engine(SparsityAnalyzer& an, const Layer& layer) {
  Rows rows(an.labels().size(), std::vector<std::vector<RowRecall>>(kH));
  an.set_row_sink(
      [&](int, int, int h, size_t p, const RowRecall& r) { rows[p][size_t(h)].push_back(r); });
  an.on_attention(layer.view());
  return rows;
}

}  // namespace

TEST_CASE("sparse recall matches PyTorch masks built from the dense map",
          "[analysis][sparse][oracle]") {
  // [spec, budget]: each pattern at its own size and under each budget unit; T = 200 leaves
  // partial blocks and pages at the end.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"topk(k=20)", ""},
      {"topk", "0.1"},
      {"block_topk(k=3,block=16,score=mean)", ""},
      {"block_topk(block=16,score=oracle)", "2b"},
      {"block_topk(block=16,score=mean)", "25%"},
      {"block_topk(block=16,score=oracle)", "40"},
      {"vertical_slash(v=10,s=12,last_q=16,force_v=2,force_s=4)", ""},
      {"vertical_slash(last_q=24)", "30"},
      {"window(size=20,sinks=3)", ""},
      {"window(sinks=2)", "0.2"},
      {"quest(k=32,page=8)", ""},
      {"quest(page=8)", "0.15"},
      {"snapkv(k=40,obs=16,kernel=5,local=8,prefix=2)", ""},
      {"snapkv(obs=24,kernel=7,local=4,prefix=1)", "0.2"},
      {"snapkv(obs=16,kernel=1,local=0,prefix=0)", "12"},
      {"snapkv(obs=8,kernel=3,local=2,prefix=1)", "4"},  // one key beyond the forced three
      {"snapkv(k=500)", ""},                              // capacity >= T keeps everything
      {"channel_topk(k=20,group=4)", ""},
      {"channel_topk(group=8)", "3b"},
  };
  for (const std::string attention : {"softmax", "softmax+window(size=48,sinks=2)"}) {
    INFO(attention);
    const int T = 200;
    Layer layer(T, attention, 11), calib(96, attention, 50);
    ChannelCalibration cal(1, kH);
    cal.on_attention(calib.view());

    std::vector<Budget> none;
    nlohmann::json pats = nlohmann::json::array();
    std::vector<Rows> got;
    for (const auto& [spec, budget] : cases) {
      pats.push_back({spec, budget});
      std::vector<Budget> b;
      if (!budget.empty()) b.push_back(parse_budget(budget));
      SparsityAnalyzer an(1, kH, {spec}, b);
      an.set_calibration(&cal);
      got.push_back(run_engine(an, layer));
    }

    auto dir = test::temp_dir("sparse_oracle");
    write_safetensors((dir / "in.safetensors").string(),
                      {{"q", as_tensor(layer.q, T)},
                       {"k", as_tensor(layer.k, T)},
                       {"v", as_tensor(layer.v, T)},
                       {"cq", as_tensor(calib.q, calib.T)},
                       {"ck", as_tensor(calib.k, calib.T)}},
                      {{"attention", attention}, {"patterns", pats.dump()}});
    test::run_oracle("sparse_ref.py",
                     (dir / "in.safetensors").string() + " " + (dir / "out.safetensors").string());
    auto ref = read_safetensors((dir / "out.safetensors").string()).tensors;

    for (size_t p = 0; p < cases.size(); ++p)
      for (int h = 0; h < kH; ++h)
        for (int t = 0; t < T; ++t) {
          INFO(cases[p].first << " budget '" << cases[p].second << "' head " << h << " row " << t);
          const RowRecall& r = got[p][0][size_t(h)].at(size_t(t));
          const size_t i = (p * kH + size_t(h)) * T + size_t(t);
          REQUIRE(r.t == t);
          REQUIRE(r.n_selected == int(ref["m"].data[i]));
          CHECK(r.recall == Approx(ref["R"].data[i]).margin(1e-6));
          CHECK(r.oracle == Approx(ref["Rstar"].data[i]).margin(1e-6));
          CHECK(r.set_recall == Approx(ref["H"].data[i]).margin(1e-6));
          CHECK(r.out_error == Approx(ref["E"].data[i]).margin(1e-6).epsilon(1e-5));
        }
  }
}

TEST_CASE("sparse recall properties: full budget, R <= R*, oracle efficiency, output bound",
          "[analysis][sparse]") {
  for (const std::string attention : {"softmax", "softmax+window(size=30,sinks=1)"}) {
    INFO(attention);
    const int T = 150;
    Layer layer(T, attention, 21);
    ChannelCalibration cal(1, kH);
    cal.on_attention(layer.view());
    const std::vector<std::string> specs = {"topk",
                                            "block_topk(block=16)",
                                            "block_topk(block=32,score=oracle)",
                                            "window(sinks=4)",
                                            "quest(page=8)",
                                            "channel_topk(group=4)"};
    // A budget of every visible key: each pattern keeps the whole row. (Vertical-slash splits a
    // budget between columns and diagonals, so it is full only with every column.)
    SparsityAnalyzer full(1, kH, specs, {parse_budget("1.0")});
    full.set_calibration(&cal);
    SparsityAnalyzer all_columns(1, kH, {"vertical_slash(v=150,s=1,last_q=16)"});
    for (SparsityAnalyzer* an : {&full, &all_columns}) {
      const Rows rows = run_engine(*an, layer);
      for (size_t p = 0; p < rows.size(); ++p)
        for (const auto& head_rows : rows[p])
          for (const RowRecall& r : head_rows) {
            INFO(an->labels()[p] << " row " << r.t);
            REQUIRE(r.n_selected == r.n_visible);
            CHECK(r.oracle == Approx(1.0).margin(1e-6));
            CHECK(r.recall == Approx(1.0).margin(1e-6));
            CHECK(r.out_error < 1e-5);
          }
    }

    double vmax = 0;
    for (int h = 0; h < kH; ++h)
      for (int t = 0; t < T; ++t) {
        double n = 0;
        for (int d = 0; d < kDh; ++d) n += std::pow(layer.v[(size_t(h) * T + t) * kDh + d], 2);
        vmax = std::max(vmax, std::sqrt(n));
      }
    std::vector<std::string> with_vs = specs;
    with_vs.push_back("vertical_slash(last_q=16)");
    SparsityAnalyzer some(1, kH, with_vs, {parse_budget("12"), parse_budget("0.3")});
    some.set_calibration(&cal);
    const Rows rows = run_engine(some, layer);
    for (size_t p = 0; p < rows.size(); ++p)
      for (int h = 0; h < kH; ++h)
        for (const RowRecall& r : rows[p][size_t(h)]) {
          INFO(some.labels()[p] << " head " << h << " row " << r.t);
          CHECK(r.recall <= r.oracle + 1e-9);
          CHECK(r.efficiency <= 1.0 + 1e-9);
          CHECK(r.n_selected <= r.n_visible);
          // ||o^S - o|| <= 2 (1 - R) max ||v|| (shared/SPARSE.md 1.1).
          CHECK(r.out_abs_error <= 2 * (1 - r.recall) * vmax + 1e-5);
          if (some.labels()[p].rfind("topk(", 0) == 0) {
            CHECK(r.efficiency == Approx(1.0).margin(1e-9));
            CHECK(r.set_recall == Approx(1.0).margin(1e-9));
          }
        }
  }
}

TEST_CASE("sparse recall aggregates: means, p10, failure rate, density, buckets",
          "[analysis][sparse]") {
  const int T = 300;  // two position buckets: t < 256 and 256..299
  Layer layer(T, "softmax", 31);
  SparsityAnalyzer an(1, kH, {"window(size=8,sinks=0)"});
  std::vector<std::vector<RowRecall>> rows(kH);
  an.set_row_sink(
      [&](int, int, int h, size_t, const RowRecall& r) { rows[size_t(h)].push_back(r); });
  an.on_attention(layer.view());
  const HeadTable tab = an.table();
  const std::string p = an.labels()[0];
  REQUIRE(p == "window(size=8 sinks=0)");
  for (int h = 0; h < kH; ++h) {
    double sum = 0, sel = 0, vis = 0, fails = 0;
    std::vector<double> rs;
    double b_sum[2] = {0, 0};
    int b_n[2] = {0, 0};
    for (const RowRecall& r : rows[size_t(h)]) {
      sum += r.recall;
      sel += r.n_selected;
      vis += r.n_visible;
      fails += r.recall < 0.9;
      rs.push_back(float(r.recall));
      b_sum[r.t >= 256] += r.recall;
      ++b_n[r.t >= 256];
      // The window keeps min(8, t + 1) keys.
      REQUIRE(r.n_selected == std::min(8, r.t + 1));
    }
    std::sort(rs.begin(), rs.end());
    CHECK(tab.get(p + ".recall", 0, h) == Approx(sum / T).margin(1e-12));
    CHECK(tab.get(p + ".recall_p10", 0, h) ==
          Approx(rs[size_t(std::floor(0.1 * (T - 1)))]).margin(1e-7));
    CHECK(tab.get(p + ".fail", 0, h) == Approx(fails / T));
    CHECK(tab.get(p + ".density", 0, h) == Approx(sel / vis));
    const auto& by = tab.head_vector(p + ".recall_by_bucket", 0, h);
    REQUIRE(by.size() == 2);
    CHECK(by[0] == Approx(b_sum[0] / b_n[0]));
    CHECK(by[1] == Approx(b_sum[1] / b_n[1]));
  }
  CHECK(tab.meta("sparsity_buckets") == "0-256 256-1024");
  CHECK(position_bucket(255) == 0);
  CHECK(position_bucket(256) == 1);
  CHECK(position_bucket(1024) == 2);
}

TEST_CASE("sparse patterns and budgets: bad input is a clear error", "[analysis][sparse][errors]") {
  CHECK_THROWS_WITH(make_selector("nope(k=1)"),
                    Catch::Contains("unknown sparse pattern") && Catch::Contains("quest"));
  CHECK_THROWS_WITH(make_selector("topk(q=3)"), Catch::Contains("q"));
  CHECK_THROWS_WITH(make_selector("topk(k=0)"), Catch::Contains("k"));
  CHECK_THROWS_WITH(make_selector("block_topk(score=max)"), Catch::Contains("mean"));
  CHECK_THROWS_WITH(make_selector("topk+window"), Catch::Contains("one pattern"));
  CHECK_THROWS_WITH(make_selector("topk(k=3"), Catch::Contains("sparse pattern"));
  CHECK_THROWS_WITH(parse_pattern_list(" ; "), Catch::Contains("no sparse pattern"));
  CHECK(parse_pattern_list("topk(k=64); window(size=60,sinks=4)").size() == 2);
  for (const std::string bad : {"", "abc", "0", "-3", "1.5", "0%", "2.5b", "0.0"})
    CHECK_THROWS_WITH(parse_budget(bad), Catch::Contains("budget"));
  CHECK(parse_budget("64").kind == Budget::tokens);
  CHECK(parse_budget("25%").value == Approx(0.25));
  CHECK(parse_budget("0.25").kind == Budget::fraction);
  CHECK(parse_budget("4b").kind == Budget::blocks);
  CHECK(parse_budget(parse_budget("12.5%").str()).value == Approx(0.125));
  CHECK_THROWS_WITH(SparsityAnalyzer(1, 1, {"topk(k=4)", "topk(k=4)"}), Catch::Contains("twice"));
  CHECK_THROWS_WITH(SparsityAnalyzer(1, 1, {}), Catch::Contains("no sparse pattern"));

  Layer layer(40, "softmax", 5);
  SparsityAnalyzer ch(1, kH, {"channel_topk(k=4)"});
  CHECK_THROWS_WITH(ch.on_attention(layer.view()), Catch::Contains("calibration"));
  CHECK_THROWS_WITH(make_selector("snapkv(kernel=4)"), Catch::Contains("odd"));
  // A capacity the forced prefix and local keys fill (the Sparse Frontier asserts the same).
  SparsityAnalyzer snap(1, kH, {"snapkv(k=6,obs=8,kernel=3,local=4,prefix=2)"});
  CHECK_THROWS_WITH(snap.on_attention(layer.view()), Catch::Contains("must exceed local + prefix"));
  SparsityAnalyzer wrong(1, kH + 1, {"topk(k=4)"});
  CHECK_THROWS_WITH(wrong.on_attention(layer.view()), Catch::Contains("heads"));
  ChannelCalibration cal(1, kH);
  CHECK_THROWS_WITH(cal.channels(0, 0), Catch::Contains("calibration"));
}

TEST_CASE("budgets of one pattern share their budget-free work and measure as if run alone",
          "[analysis][sparse]") {
  // channel_topk shares its approximate scores and Quest its page bounds across the budgets of
  // one spec; every row must measure exactly as the same budget in an analyzer of its own.
  const int T = 150;
  Layer layer(T, "softmax+window(size=60,sinks=2)", 21), calib(80, "softmax", 40);
  ChannelCalibration cal(1, kH);
  cal.on_attention(calib.view());
  for (const std::string spec : {"channel_topk(group=4)", "quest(page=8)"}) {
    INFO(spec);
    std::vector<Budget> budgets;
    for (const char* b : {"16", "25%", "2b", "0.5"}) budgets.push_back(parse_budget(b));
    SparsityAnalyzer together(1, kH, {spec}, budgets);
    together.set_calibration(&cal);
    const Rows all = run_engine(together, layer);
    for (size_t i = 0; i < budgets.size(); ++i) {
      SparsityAnalyzer alone(1, kH, {spec}, {budgets[i]});
      alone.set_calibration(&cal);
      const Rows one = run_engine(alone, layer);
      for (int h = 0; h < kH; ++h)
        for (int t = 0; t < T; ++t) {
          const RowRecall& a = all[i][size_t(h)][size_t(t)];
          const RowRecall& b = one[0][size_t(h)][size_t(t)];
          REQUIRE(a.n_selected == b.n_selected);
          REQUIRE(a.recall == b.recall);
          REQUIRE(a.out_error == b.out_error);
        }
    }
    // The budgets really differ: the largest keeps more keys than the smallest somewhere.
    int64_t small = 0, large = 0;
    for (int h = 0; h < kH; ++h)
      for (int t = 0; t < T; ++t) {
        small += all[0][size_t(h)][size_t(t)].n_selected;
        large += all[3][size_t(h)][size_t(t)].n_selected;
      }
    CHECK(large > small);
  }
}

TEST_CASE("top_by_score equals a full sort by (score desc, index asc)", "[analysis][sparse]") {
  // Float scores rank by one packed integer, double scores by a threshold and their indices;
  // both must equal the rule written out, with many ties, -0 against +0, candidates in any
  // order and every k.
  Rng rng(17);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + int(rng.below(trial % 2 ? 60 : 300));  // below and above kth_largest's cut-over
    std::vector<int> cand(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) cand[size_t(i)] = 3 * i + int(rng.below(3));
    if (trial % 3 == 0) std::reverse(cand.begin(), cand.end());
    std::map<int, double> score;
    for (int c : cand) {
      const int level = int(rng.below(6));  // few distinct values: ties everywhere
      score[c] = level == 0 ? (rng.below(2) ? -0.0 : 0.0) : double(level) - 2.5;
    }
    for (int k = 0; k <= n + 1; k += 1 + (n > 60 ? int(rng.below(20)) : 0)) {
      std::vector<int> want = cand;
      std::sort(want.begin(), want.end(), [&](int a, int b) {
        return score[a] > score[b] || (score[a] == score[b] && a < b);
      });
      want.resize(size_t(std::clamp(k, 0, n)));
      std::sort(want.begin(), want.end());
      std::vector<int> by_double, by_float, c1 = cand, c2 = cand;
      top_by_score(c1, k, [&](int j) { return score[j]; }, by_double);
      top_by_score(c2, k, [&](int j) { return float(score[j]); }, by_float);
      INFO("trial " << trial << " k " << k);
      CHECK(by_double == want);
      CHECK(by_float == want);
    }
  }
}

TEST_CASE("kth_largest equals nth_element on keys with shared bytes and repeats", "[analysis][sparse]") {
  Rng rng(23);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = 1 + size_t(rng.below(trial % 3 ? 2000 : 70));
    std::vector<uint64_t> keys(n);
    const uint64_t high = uint64_t(rng.below(1u << 20)) << 40;  // all keys agree on the top bytes
    for (uint64_t& x : keys)
      x = trial % 4 == 0 ? uint64_t(rng.below(5)) << 8 : high | (uint64_t(rng.below(1u << 30)) << (trial % 2 ? 0 : 10));
    const size_t k = 1 + size_t(rng.below(uint32_t(n)));
    std::vector<uint64_t> sorted = keys;
    std::sort(sorted.begin(), sorted.end(), std::greater<uint64_t>());
    INFO("trial " << trial << " n " << n << " k " << k);
    CHECK(kth_largest(keys.data(), n, k) == sorted[k - 1]);
  }
}
