// The run's measurements on a real (untrained) model: attn_stats agrees with the analysis
// engine's alpha_1 and prefix matching, attention maps are causal rows summing to one.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>

#include "core/io/load_checkpoint.h"
#include "core/model/transformer.h"
#include "experiments/runner/probes.h"
#include "experiments/spec/task_bridge.h"
#include "tests/test_support.h"

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

namespace {

// A model sized for a task (vocab and length), untrained.
std::unique_ptr<Transformer> model_for(const Task& task, int layers, int heads) {
  ModelConfig mc;
  mc.vocab_size = task.vocab_size();
  mc.context = task.seq_len();
  mc.d_model = 16;
  mc.n_layers = layers;
  mc.n_heads = heads;
  mc.n_kv_heads = heads;
  mc.d_ff = 32;
  auto m = std::make_unique<Transformer>(mc);
  m->init_weights(4);
  return m;
}

std::map<std::string, double> scalars(const ProbeResult& r) {
  std::map<std::string, double> out;
  for (const ScalarRow& s : r.scalars) out[s.name] = s.value;
  return out;
}

}  // namespace

TEST_CASE("streaming probe: dense, window and window + sinks losses with their ratios", "[probes][streaming]") {
  auto task = make_study_task({{"name", "bigram_backcopy"}}, 1, 2, 32);
  auto model = model_for(*task, 1, 2);
  nlohmann::json cfg = {{"names", {"streaming"}}, {"params", {{"stream_window", 8}, {"stream_sinks", 2}}}};
  auto s = scalars(run_probes(*model, *task, cfg, "run", 3, false));
  REQUIRE(s.count("stream_loss_dense"));
  REQUIRE(s.count("stream_loss_window"));
  REQUIRE(s.count("stream_loss_sinks"));
  CHECK(s["stream_window_ratio"] == Approx(s["stream_loss_window"] / s["stream_loss_dense"]));
  CHECK(s["stream_sinks_ratio"] == Approx(s["stream_loss_sinks"] / s["stream_loss_dense"]));
  CHECK(model->attention(0).spec() == "softmax");  // restored
  nlohmann::json too_big = {{"names", {"streaming"}}, {"params", {{"stream_window", 31}, {"stream_sinks", 4}}}};
  CHECK_THROWS_WITH(run_probes(*model, *task, too_big, "run", 3, false), Catch::Contains("nothing is evicted"));
}

TEST_CASE("active_dormant probe: per-head rows on bigram_backcopy, an error elsewhere", "[probes][active_dormant]") {
  auto task = make_study_task({{"name", "bigram_backcopy"}}, 1, 4, 32);
  auto model = model_for(*task, 1, 2);
  nlohmann::json cfg = {{"names", {"active_dormant"}}, {"params", nlohmann::json::object()}};
  ProbeResult r = run_probes(*model, *task, cfg, "run", 3, false);
  auto bos = by_head(r.heads, "bos_mass_nontrigger");
  REQUIRE(bos.size() == 2);
  for (const auto& [k, v] : bos) CHECK((v > 0.0 && v <= 1.0));
  CHECK(by_head(r.heads, "bos_value_ratio").size() == 2);
  CHECK(by_head(r.heads, "bos_score_gap").size() == 2);
  Fixture f;  // an induction task has no triggers
  CHECK_THROWS_WITH(run_probes(*f.model, *f.task, cfg, "run", 1, false), Catch::Contains("bigram_backcopy"));
}

TEST_CASE("retrieval probe: scores, ablation accuracies, and an error off the needle task", "[probes][retrieval]") {
  auto task = make_study_task({{"name", "needle"}, {"params", {{"vocab", 16}, {"value_len", 2}, {"key_len", 1}}}}, 1, 4, 24);
  auto model = model_for(*task, 2, 2);
  nlohmann::json cfg = {{"names", {"retrieval"}}, {"params", {{"retrieval_trials", 4}, {"ablate_k", 1}}}};
  ProbeResult r = run_probes(*model, *task, cfg, "run", 3, true);
  auto s = scalars(r);
  REQUIRE(s.count("retrieval/answer_recall"));
  CHECK(s["retrieval/answer_recall"] >= 0.0);
  // An untrained model may accept no trial; then nothing is ranked or ablated, and no row says 0.
  REQUIRE(s.count("retrieval/acc"));  // the unmasked accuracy, whatever the trials
  if (s.count("retrieval/acc_top_ablated")) {
    CHECK(s.count("retrieval/acc_top_ablated"));
    CHECK(s["retrieval/ablation_gap"] == Approx(s["retrieval/acc_random_ablated"] - s["retrieval/acc_top_ablated"]));
  } else {
    CHECK(by_head(r.heads, "retrieval_score").empty());
  }
  REQUIRE(r.tables.size() == 1);
  CHECK(r.tables[0].first == "retrieval");
  Fixture f;
  CHECK_THROWS_WITH(run_probes(*f.model, *f.task, cfg, "run", 1, false), Catch::Contains("needle"));
}

// A trained needle model (tests/data/needle_2l8h.safetensors, made by
// scripts/make-needle-fixture.sh: 2 layers x 8 heads, d 128, needle(vocab=64, key_len=2,
// value_len=4) at T = 32, 3000 steps, seed 3) and its task.
struct TrainedNeedle {
  std::unique_ptr<Transformer> model;
  std::unique_ptr<Task> task;
  TrainedNeedle() {
    LoadedModel lm = load_checkpoint((test::source_dir() / "tests/data/needle_2l8h.safetensors").string());
    model = std::make_unique<Transformer>(lm.config);
    model->load_weights(lm.weights);
    task = make_study_task(
        {{"name", "needle"}, {"params", {{"vocab", 64}, {"key_len", 2}, {"value_len", 4}, {"distractors", 0}}}}, 3, 32,
        32);
  }
};

// Wu et al.'s finding on the trained needle model, through the probe the sweeps run: it retrieves; a few heads are retrieval heads; masking them together (uniform
// attention) costs far more accuracy than masking as many random other heads of the same layers.
TEST_CASE("retrieval probe on a trained needle model: masking its retrieval heads breaks retrieval, masking others does not",
          "[probes][retrieval]") {
  TrainedNeedle n;
  Transformer& model = *n.model;
  Task* task = n.task.get();
  nlohmann::json cfg = {{"names", {"retrieval"}}, {"params", {{"retrieval_trials", 32}, {"ablate_draws", 5}}}};
  ProbeResult r = run_probes(model, *task, cfg, "run", 3000, false);
  auto s = scalars(r);
  for (const auto& [k, v] : s) UNSCOPED_INFO(k << " = " << v);
  CHECK(s["retrieval/answer_recall"] == Approx(1.0));  // every answer token, the last included
  REQUIRE(s["retrieval/acc"] >= 0.95);
  // Retrieval heads exist (score > 0.1) and are few: at most a quarter of the 16 heads.
  REQUIRE(s["retrieval/heads"] >= 1);
  CHECK(s["retrieval/heads"] <= 4);
  CHECK(s["retrieval/top_score"] > 0.5);
  REQUIRE(s.count("retrieval/acc_top_ablated"));
  CHECK(s["retrieval/ablated_heads"] == s["retrieval/heads"]);
  // Masking them drops needle accuracy by at least 0.3 ...
  CHECK(s["retrieval/acc_top_ablated"] <= s["retrieval/acc"] - 0.3);
  // ... masking as many random other heads of the same layers costs at most 0.1.
  REQUIRE(s.count("retrieval/acc_random_same_layers"));
  CHECK(s["retrieval/acc_random_same_layers"] >= s["retrieval/acc"] - 0.1);
  CHECK(s["retrieval/same_layers_gap"] >= 0.25);
  // Wu's control draws from every other head, here mostly first-layer heads that every
  // retrieval head reads from: reported, and in this 2-layer model not a clean control.
  CHECK(s.count("retrieval/acc_random_ablated"));
}

// The same model as a hybrid KV policy (RazorAttention, DuoAttention): its 4 retrieval heads keep
// every key, the other 12 a sink and the 4 most recent keys after the prompt.
TEST_CASE("hybrid_kv probe on a trained needle model: protecting the retrieval heads beats protecting random heads",
          "[probes][hybrid_kv]") {
  TrainedNeedle n;
  Transformer& model = *n.model;
  Task* task = n.task.get();
  nlohmann::json cfg = {{"names", {"hybrid_kv"}}, {"params", {{"hybrid_window", 4}, {"hybrid_sinks", 1}}}};
  auto s = scalars(run_probes(model, *task, cfg, "run", 3000, false));
  for (const auto& [k, v] : s) UNSCOPED_INFO(k << " = " << v);
  REQUIRE(s["hybrid/acc_dense"] >= 0.95);
  CHECK(s["hybrid/protected_heads"] == 4);
  // Measured: 0.84 with the retrieval heads protected, 0.22 with random ones, 57 % of KV saved.
  CHECK(s["hybrid/acc_retrieval"] >= 0.75);
  CHECK(s["hybrid/acc_random"] <= 0.5);
  CHECK(s["hybrid/random_drop"] - s["hybrid/retrieval_drop"] >= 0.3);
  CHECK(s["hybrid/kv_saving"] > 0.5);
  CHECK(s["hybrid/kv_saving"] < 1.0);
}

// The Sparse Frontier's pairing of phases with methods (recipe r15): each sparse_methods item runs at
// every budget under its own phase; a method item naming the probe's own pattern and phase gives
// the phase loop's numbers.
TEST_CASE("sparse_eval probe: each phase with its own method", "[probes][sparse]") {
  TrainedNeedle n;
  nlohmann::json cfg = {
      {"names", {"sparse_eval"}},
      {"params",
       {{"sparse_pattern", "topk"},
        {"sparse_budgets", "25%"},
        {"sparse_phases", "decode"},
        {"sparse_methods",
         "prefill:vertical_slash(last_q=8,force_v=1,force_s=1); decode:quest(page=4);"
         "kv:snapkv(obs=8,kernel=3,local=2,prefix=1); decode:topk"}}}};
  auto s = scalars(run_probes(*n.model, *n.task, cfg, "run", 3000, false));
  for (const auto& [k, v] : s) UNSCOPED_INFO(k << " = " << v);
  REQUIRE(s["sparse/acc_dense"] >= 0.95);
  for (const std::string m : {"vertical_slash/prefill", "quest/decode", "snapkv/kv"}) {
    INFO(m);
    REQUIRE(s.count("sparse/" + m + "/25%/dce"));
    CHECK(s["sparse/" + m + "/25%/density"] > 0.05);
    CHECK(s["sparse/" + m + "/25%/density"] < 1.0);
  }
  CHECK(s["sparse/topk/decode/25%/dce"] == s["sparse/decode/25%/dce"]);
  CHECK(s["sparse/topk/decode/25%/kl"] == s["sparse/decode/25%/kl"]);
  cfg["params"]["sparse_methods"] = "quest(page=4)";
  CHECK_THROWS_WITH(run_probes(*n.model, *n.task, cfg, "run", 1, false), Catch::Contains("phase:pattern"));
  cfg["params"]["sparse_methods"] = "later:quest(page=4)";
  CHECK_THROWS_WITH(run_probes(*n.model, *n.task, cfg, "run", 1, false),
                    Catch::Contains("sparse_methods item") && Catch::Contains("'later'"));
  cfg["params"]["sparse_methods"] = "decode:quest(page=4);decode:quest(page=2)";
  CHECK_THROWS_WITH(run_probes(*n.model, *n.task, cfg, "run", 1, false), Catch::Contains("same metrics"));
  cfg["params"]["sparse_methods"] = "decode:nope";
  CHECK_THROWS_WITH(run_probes(*n.model, *n.task, cfg, "run", 1, false), Catch::Contains("unknown sparse pattern"));
  // The prompt as a generator prefills it: one more prefill row, the first answer token's.
  cfg["params"]["sparse_methods"] = "";
  cfg["params"]["sparse_phases"] = "kv";
  cfg["params"]["sparse_pattern"] = "window(size=2,sinks=1)";
  auto decoded = scalars(run_probes(*n.model, *n.task, cfg, "run", 1, false));
  cfg["params"]["sparse_prefill"] = "prompt";
  auto prompt = scalars(run_probes(*n.model, *n.task, cfg, "run", 1, false));
  // The first answer token is no longer read from the compressed cache.
  CHECK(prompt["sparse/kv/25%/dce"] < decoded["sparse/kv/25%/dce"]);
  // One model at several lengths: the task remade at each; at its own length the same numbers.
  cfg["params"]["sparse_prefill"] = 0;
  cfg["params"]["sparse_lens"] = "24,32";
  auto lens = scalars(run_probes(*n.model, *n.task, cfg, "run", 1, false));
  CHECK(lens["sparse/T32/kv/25%/dce"] == decoded["sparse/kv/25%/dce"]);
  CHECK(lens["sparse/T32/acc_dense"] == decoded["sparse/acc_dense"]);
  REQUIRE(lens.count("sparse/T24/kv/25%/dce"));
  CHECK(lens["sparse/T24/kv/25%/dce"] != lens["sparse/T32/kv/25%/dce"]);
  CHECK_FALSE(lens.count("sparse/kv/25%/dce"));
  // A task of mixed lengths (len_min) is evaluated at fixed ones: at 32 exactly the numbers of
  // the fixed-length task (same data), at 24 the rows really are 24 long (another density).
  auto mixed = make_study_task({{"name", "needle"},
                                {"params",
                                 {{"vocab", 64}, {"key_len", 2}, {"value_len", 4}, {"distractors", 0},
                                  {"len_min", 24}}}},
                               3, 32, 32);
  auto from_mixed = scalars(run_probes(*n.model, *mixed, cfg, "run", 1, false));
  CHECK(from_mixed["sparse/T32/kv/25%/dce"] == lens["sparse/T32/kv/25%/dce"]);
  CHECK(from_mixed["sparse/T24/kv/25%/dce"] == lens["sparse/T24/kv/25%/dce"]);
  CHECK(lens["sparse/T24/kv/25%/density"] != lens["sparse/T32/kv/25%/density"]);
  cfg["params"].erase("sparse_lens");
  auto fixed = scalars(run_probes(*n.model, *mixed, cfg, "run", 1, false));  // len_min dropped
  CHECK(fixed["sparse/kv/25%/dce"] == decoded["sparse/kv/25%/dce"]);
  cfg["params"]["sparse_lens"] = "64";
  CHECK_THROWS_WITH(run_probes(*n.model, *n.task, cfg, "run", 1, false), Catch::Contains("context"));
  cfg["params"]["sparse_lens"] = "32,x";
  CHECK_THROWS_WITH(run_probes(*n.model, *n.task, cfg, "run", 1, false), Catch::Contains("'x': not a length"));
  cfg["params"]["sparse_lens"] = "13";  // too short for the needle and its question
  CHECK_THROWS_WITH(run_probes(*n.model, *n.task, cfg, "run", 1, false),
                    Catch::Contains("sparse_lens '13'") && Catch::Contains("no haystack"));
  cfg["params"].erase("sparse_lens");
  cfg["params"]["sparse_prefill"] = "soon";
  CHECK_THROWS_WITH(run_probes(*n.model, *n.task, cfg, "run", 1, false), Catch::Contains("prefill 'soon'"));
}

// Olsson et al.'s ablation on a trained 2-layer attention-only model (recipe R8's configuration,
// seed 0, scripts/make-induction-fixture.sh), through the probe the sweeps run, on periods never
// trained on. Its circuit: all 4 second-layer heads are induction heads (prefix matching 0.71 -
// 0.93), the first layer's heads previous-token heads. Masking the induction heads breaks
// copying; masking 4 random other heads (the previous-token heads they read from) hurts too,
// but less; no same-layer control exists.
TEST_CASE("induction_ablation probe on a trained 2-layer model: masking its induction heads breaks in-context copying",
          "[probes][induction]") {
  LoadedModel lm = load_checkpoint((test::source_dir() / "tests/data/induction_2l4h.safetensors").string());
  Transformer model(lm.config);
  model.load_weights(lm.weights);
  const nlohmann::json spec = {{"name", "induction"},
                               {"params",
                                {{"vocab", 64},
                                 {"block", 8},
                                 {"block_max", 24},
                                 {"val_every", 4},
                                 {"len", 64},
                                 {"mask_repeats", true}}}};
  auto task = make_study_task(spec, 2000003, 32, 64, true);
  nlohmann::json cfg = {{"names", {"induction_ablation"}}, {"params", {{"ablate_draws", 5}}}};
  auto s = scalars(run_probes(model, *task, cfg, "run", 800, false));
  for (const auto& [k, v] : s) UNSCOPED_INFO(k << " = " << v);
  REQUIRE(s["induction/acc"] >= 0.9);
  CHECK(s["induction/top_score"] > 0.6);
  REQUIRE(s.count("induction/acc_top_ablated"));
  CHECK(s["induction/ablated_heads"] == 4);
  CHECK(s["induction/acc_top_ablated"] <= s["induction/acc"] - 0.5);
  CHECK(s["induction/ablation_gap"] >= 0.1);
  CHECK_FALSE(s.count("induction/acc_random_same_layers"));

  // The same probe on the untrained model: no head clears the threshold, so nothing is masked.
  Transformer fresh(lm.config);
  auto f = scalars(run_probes(fresh, *task, cfg, "run", 0, false));
  CHECK(f["induction/acc"] < 0.3);
  CHECK(f["induction/top_score"] < 0.3);
  CHECK_FALSE(f.count("induction/acc_top_ablated"));
}
