// The run's measurements on a real (untrained) model: attn_stats agrees with the analysis
// engine's alpha_1 and prefix matching, attention maps are causal rows summing to one.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>

#include "core/model/transformer.h"
#include "experiments/runner/probes.h"
#include "experiments/spec/task_bridge.h"

using namespace attnlab;
using namespace attnlab::exp;

namespace {

struct Fixture {
  ModelConfig mc;
  std::unique_ptr<Transformer> model;
  std::unique_ptr<Task> task;
  Fixture() {
    mc.vocab_size = 16;
    mc.context = 16;
    mc.d_model = 16;
    mc.n_layers = 2;
    mc.n_heads = 2;
    mc.n_kv_heads = 2;
    mc.d_ff = 32;
    model = std::make_unique<Transformer>(mc);
    model->init_weights(3);
    task = make_study_task({{"name", "induction"}, {"params", {{"vocab", 16}, {"block", 5}, {"repeats", 3}}}}, 7, 4, 0);
  }
};

std::map<std::pair<int, int>, double> by_head(const std::vector<HeadRow>& rows, const std::string& metric) {
  std::map<std::pair<int, int>, double> out;
  for (const HeadRow& r : rows)
    if (r.metric == metric) out[{r.layer, r.head}] = r.value;
  return out;
}

}  // namespace

TEST_CASE("attn_stats matches the analysis engine on the same rows") {
  Fixture f;
  nlohmann::json cfg = {{"names", {"attn_stats", "analyzer"}}, {"params", nlohmann::json::object()}};
  ProbeResult r = run_probes(*f.model, *f.task, cfg, "run", 10, true);
  auto alpha = by_head(r.heads, "sink_alpha1");
  auto alpha_ref = by_head(r.heads, "analyzer/alpha1");
  REQUIRE(alpha.size() == 4);
  REQUIRE(alpha_ref.size() == 4);
  for (const auto& [k, v] : alpha) CHECK(v == Approx(alpha_ref[k]).margin(1e-5));
  auto pm = by_head(r.heads, "prefix_match");
  auto pm_ref = by_head(r.heads, "analyzer/prefix_matching");
  if (!pm_ref.empty())
    for (const auto& [k, v] : pm) CHECK(v == Approx(pm_ref[k]).margin(1e-4));
  bool has_sink_pct = false;
  for (const ScalarRow& s : r.scalars) has_sink_pct = has_sink_pct || s.name == "analyzer/sink_k1_pct";
  CHECK(has_sink_pct);
  REQUIRE(r.tables.size() == 2);
  CHECK(r.tables[0].first == "attn_stats");
  CHECK(r.tables[1].first == "analyzer");
  // Every row is tagged with the run and step it measured.
  for (const HeadRow& h : r.heads) CHECK((h.run == "run" && h.step == 10));
}

TEST_CASE("attention maps are causal rows that sum to one; task metrics are prefixed") {
  Fixture f;
  auto maps = capture_attention_maps(*f.model, *f.task, 8, "run", 5);
  REQUIRE(maps.size() == 4);
  for (const AttentionMap& m : maps) {
    REQUIRE(m.T == 8);
    REQUIRE(m.tokens.size() == 8);
    CHECK(m.tokens[0] == "<bos>");  // the induction task's BOS, as the task writes it
    for (int t = 0; t < m.T; ++t) {
      double s = 0;
      for (int j = 0; j < m.T; ++j) {
        if (j > t) CHECK(m.data[t * m.T + j] == 0.0f);
        s += m.data[t * m.T + j];
      }
      CHECK(s == Approx(1.0).epsilon(1e-5));
    }
  }
  auto scores = score_task(*f.model, *f.task, "run", 5);
  REQUIRE(!scores.empty());
  CHECK(scores[0].name == "task/accuracy");
  CHECK(scores[0].value >= 0.0);
  CHECK(scores[0].value <= 1.0);
}

TEST_CASE("an unknown probe is an error, not a silent skip") {
  Fixture f;
  nlohmann::json cfg = {{"names", {"nope"}}, {"params", nlohmann::json::object()}};
  CHECK_THROWS_WITH(run_probes(*f.model, *f.task, cfg, "run", 1, false), Catch::Contains("nope"));
}

TEST_CASE("in-context regression runs are scored against their baselines") {
  ModelConfig mc;
  mc.input_dim = 3;
  mc.context = 8;
  mc.d_model = 16;
  mc.n_layers = 1;
  mc.n_heads = 2;
  mc.n_kv_heads = 2;
  mc.d_ff = 16;
  Transformer model(mc);
  model.init_weights(1);
  auto task = make_study_task({{"name", "linear_regression"}, {"params", {{"dim", 3}}}}, 7, 4, 8);
  std::map<std::string, double> s;
  for (const ScalarRow& r : score_task(model, *task, "run", 1)) s[r.name] = r.value;
  for (const char* m : {"task/squared_error", "task/ols_squared_error", "task/averaging_squared_error"})
    CHECK((s.count(m) && std::isfinite(s[m]) && s[m] >= 0.0));
  // Least squares beats averaging once the points outnumber the dimensions.
  CHECK(s["task/ols_squared_error"] < s["task/averaging_squared_error"]);
}
