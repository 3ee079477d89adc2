#include "experiments/runner/probes.h"

#include <algorithm>
#include <cmath>

#include "analysis/analyzer.h"
#include "core/model/observer.h"
#include "core/tensor/error.h"
#include "experiments/runner/research_probes.h"
#include "experiments/spec/task_bridge.h"

namespace attnlab::exp {

namespace {

// attn_stats: the few per-head series worth logging at every probe step, under short names.
const std::vector<std::pair<const char*, const char*>> kAttnStats = {
    {"sink_alpha1", "alpha1"},  // Gu et al. alpha_1 (proxy-normalized for unnormalized variants)
    {"entropy", "norm_entropy"},
    {"prev_token", "prev_token"},
    {"prefix_match", "prefix_matching"}};

}  // namespace

HeadTable analyse_probe_batch(Transformer& model, Task& task, const nlohmann::json& params,
                              const std::string& probe) {
  task.seek(0);
  Batch batch;
  task.next(batch);
  if (batch.in_dim > 0) throw Error("probe " + probe + " needs a token task");
  const ModelConfig& mc = model.config();
  int rows = std::min(batch.B, int(params.value("rows", 4)));
  AttentionAnalyzer an(mc.n_layers, mc.n_heads);
  an.set_tokens(batch.tokens.data(), rows, batch.T);
  model.add_observer(&an);
  try {
    model.forward_without_logits(batch.tokens.data(), rows, batch.T);
  } catch (...) {
    model.remove_observer(&an);
    throw;
  }
  model.remove_observer(&an);
  return an.table();
}

std::vector<ScalarRow> score_task(Transformer& model, Task& task, const std::string& run,
                                  int64_t step) {
  task.seek(0);
  Batch batch;
  task.next(batch);
  // Continuous tasks (in-context regression) score the model's predictions, token tasks its logits.
  const Tensor& logits = batch.in_dim > 0
                             ? model.forward_continuous(batch.features.data(), batch.B, batch.T)
                             : model.forward(batch.tokens.data(), batch.B, batch.T);
  std::vector<ScalarRow> out;
  for (const TaskMetric& m : task.score(batch, logits))
    out.push_back({run, step, "task/" + m.name, m.value});
  return out;
}

ProbeResult run_probes(Transformer& model, Task& task, const nlohmann::json& probes_cfg,
                       const std::string& run, int64_t step, bool final_tables) {
  ProbeResult res;
  for (const auto& name_j : probes_cfg.at("names")) {
    std::string name = name_j.get<std::string>();
    if (name == "analyzer") {
      // The full HeadTable, every metric and model scalar under the prefix "analyzer/".
      HeadTable t = analyse_probe_batch(model, task, probes_cfg.at("params"), name);
      for (const std::string& m : t.metrics())
        for (int l = 0; l < t.n_layers(); ++l)
          for (int h = 0; h < t.n_heads(); ++h) {
            double v = t.get(m, l, h);
            if (std::isfinite(v)) res.heads.push_back({run, step, l, h, "analyzer/" + m, v});
          }
      for (const auto& [k, v] : t.scalars())
        if (std::isfinite(v)) res.scalars.push_back({run, step, "analyzer/" + k, v});
      if (final_tables) res.tables.emplace_back(name, t.to_json().dump());
      continue;
    }
    const nlohmann::json& params = probes_cfg.at("params");
    if (name == "streaming") {
      streaming_probe(model, task, params, run, step, res);
      continue;
    }
    if (name == "active_dormant") {
      active_dormant_probe(model, task, params, run, step, res);
      continue;
    }
    if (name == "sparsity") {
      sparsity_sweep_probe(model, task, params, run, step, final_tables, res);
      continue;
    }
    if (name == "sparse_eval") {
      sparse_eval_probe(model, task, params, run, step, res);
      continue;
    }
    if (name == "hybrid_kv") {
      hybrid_kv_probe(model, task, params, run, step, res);
      continue;
    }
    if (name == "retrieval") {
      retrieval_ablation_probe(model, task, params, run, step, final_tables, res);
      continue;
    }
    if (name == "induction_ablation") {
      induction_ablation_probe(model, task, params, run, step, res);
      continue;
    }
    if (name != "attn_stats") throw Error("probe '" + name + "' is not available in this build");
    HeadTable t = analyse_probe_batch(model, task, probes_cfg.at("params"), name);
    double eps = probes_cfg.at("params").value("sink_eps", 0.3);
    int sinks = 0;
    double ent_sum = 0, best_prefix = 0;
    nlohmann::json table = nlohmann::json::array();
    for (int l = 0; l < t.n_layers(); ++l)
      for (int h = 0; h < t.n_heads(); ++h) {
        nlohmann::json row{{"layer", l}, {"head", h}};
        for (const auto& [short_name, metric] : kAttnStats) {
          double v = t.get(metric, l, h);
          if (!std::isfinite(v)) v = 0.0;  // e.g. no prefix-matching row in the batch
          res.heads.push_back({run, step, l, h, short_name, v});
          row[short_name] = v;
        }
        sinks += row["sink_alpha1"].get<double>() > eps;
        ent_sum += row["entropy"].get<double>();
        best_prefix = std::max(best_prefix, row["prefix_match"].get<double>());
        table.push_back(row);
      }
    int heads = t.n_layers() * t.n_heads();
    res.scalars.push_back({run, step, "sink1_pct", 100.0 * sinks / heads});
    res.scalars.push_back({run, step, "mean_entropy", ent_sum / heads});
    res.scalars.push_back({run, step, "max_prefix_match", best_prefix});
    if (final_tables) res.tables.emplace_back(name, table.dump());
  }
  return res;
}

std::vector<AttentionMap> capture_attention_maps(Transformer& model, Task& task, int len,
                                                 const std::string& run, int64_t step) {
  task.seek(0);
  Batch batch;
  task.next(batch);
  if (batch.in_dim > 0) return {};
  int T = std::min(batch.T, std::max(1, len));
  std::vector<int32_t> tokens(batch.tokens.begin(), batch.tokens.begin() + T);
  struct Capture : ForwardObserver {
    int T = 0, H = 0;
    std::vector<AttentionMap> maps;
    void on_attention(const LayerAttentionView& view) override {
      for (int h = 0; h < H; ++h) {
        AttentionMap m;
        m.layer = view.layer;
        m.head = h;
        m.T = T;
        m.data.assign(size_t(T) * T, 0.0f);
        view.attention->pattern(*view.inputs, 0, h, [&](int t, const float* r) {
          std::copy(r, r + t + 1, m.data.begin() + size_t(t) * T);
        });
        maps.push_back(std::move(m));
      }
    }
  } cap;
  cap.T = T;
  cap.H = model.config().n_heads;
  model.add_observer(&cap);
  try {
    model.forward_without_logits(tokens.data(), 1, T);
  } catch (...) {
    model.remove_observer(&cap);
    throw;
  }
  model.remove_observer(&cap);
  std::vector<std::string> labels;
  for (int32_t id : tokens) labels.push_back(task.token_text(id));
  for (AttentionMap& m : cap.maps) {
    m.run = run;
    m.step = step;
    m.tokens = labels;
  }
  return cap.maps;
}

}  // namespace attnlab::exp
