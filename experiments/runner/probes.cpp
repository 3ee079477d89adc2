#include "experiments/runner/probes.h"

#include <algorithm>
#include <cmath>

#include "analysis/analyzer.h"
#include "core/model/observer.h"
#include "core/tensor/error.h"
#include "experiments/spec/task_bridge.h"

namespace attnlab::exp {

namespace {

// Streams every head's rows once and keeps per-head sums: the cheap statistics the engine
// logs during training ("attn_stats"). Non-normalized variants are proxy-normalized
// (row / row sum), as Gu et al. do for sink metrics.
struct RowStats : ForwardObserver {
  int rows_per_batch = 0, T = 0, H = 0, L = 0;
  const int32_t* tokens = nullptr;  // [B, T]
  // per (layer, head): sums and counts
  std::vector<double> first_mass, entropy, prev, prefix;
  std::vector<int64_t> n_rows, n_prefix, n_first;

  void init(int layers, int heads) {
    L = layers;
    H = heads;
    size_t n = size_t(L) * H;
    first_mass.assign(n, 0);
    entropy.assign(n, 0);
    prev.assign(n, 0);
    prefix.assign(n, 0);
    n_rows.assign(n, 0);
    n_prefix.assign(n, 0);
    n_first.assign(n, 0);
  }

  void on_attention(const LayerAttentionView& view) override {
    const AttnInputs& in = *view.inputs;
    bool normalized = view.attention->normalized_rows();
    std::vector<float> row;
    for (int b = 0; b < rows_per_batch && b < in.shape.B; ++b)
      for (int h = 0; h < H; ++h) {
        size_t k = size_t(view.layer) * H + h;
        const int32_t* tok = tokens + size_t(b) * T;
        view.attention->pattern(in, b, h, [&](int t, const float* r) {
          row.assign(r, r + t + 1);
          if (!normalized) {
            double s = 0;
            for (float& x : row) s += std::fabs(x);
            for (float& x : row) x = s > 0 ? float(std::fabs(x) / s) : 0.0f;
          }
          // alpha_1 as Gu et al. define it: the mean over every query t >= 0 (the first query's
          // weight 1 on itself included).
          first_mass[k] += row[0];
          ++n_first[k];
          if (t >= 1) {  // a single-key row says nothing about entropy or the previous token
            double ent = 0;
            for (float p : row)
              if (p > 0) ent -= p * std::log(double(p));
            entropy[k] += ent / std::log(double(t + 1));
            prev[k] += row[t - 1];
            ++n_rows[k];
          }
          // Prefix matching (Olsson et al.): mass on keys j whose previous token equals ours.
          double pm = 0;
          bool any = false;
          for (int j = 1; j < t; ++j)
            if (tok[j - 1] == tok[t]) {
              pm += row[j];
              any = true;
            }
          if (any) {
            prefix[k] += pm;
            ++n_prefix[k];
          }
        });
      }
  }
};

}  // namespace

std::vector<ScalarRow> score_task(Transformer& model, Task& task, const std::string& run, int64_t step) {
  task.seek(0);
  Batch batch;
  task.next(batch);
  if (batch.in_dim > 0) return {};  // continuous tasks are scored by their loss alone
  const Tensor& logits = model.forward(batch.tokens.data(), batch.B, batch.T);
  std::vector<ScalarRow> out;
  for (const TaskMetric& m : task.score(batch, logits)) out.push_back({run, step, "task/" + m.name, m.value});
  return out;
}

ProbeResult run_probes(Transformer& model, Task& task, const nlohmann::json& probes_cfg, const std::string& run,
                       int64_t step, bool final_tables) {
  ProbeResult res;
  for (const auto& name_j : probes_cfg.at("names")) {
    std::string name = name_j.get<std::string>();
    if (name == "analyzer") {
      // The full analysis engine (analysis/analyzer.h): every head metric of its HeadTable, its
      // model scalars (sink_k1_pct, ...), and the table itself at the end. Names get the prefix
      // "analyzer/" so they never mix with attn_stats' cheaper statistics of the same name.
      task.seek(0);
      Batch batch;
      task.next(batch);
      if (batch.in_dim > 0) throw Error("probe analyzer needs a token task");
      const ModelConfig& mc = model.config();
      int rows = std::min(batch.B, int(probes_cfg.at("params").value("rows", 4)));
      AttentionAnalyzer an(mc.n_layers, mc.n_heads);
      an.set_tokens(batch.tokens.data(), rows, batch.T);
      model.add_observer(&an);
      try {
        model.forward(batch.tokens.data(), rows, batch.T);
      } catch (...) {
        model.remove_observer(&an);
        throw;
      }
      model.remove_observer(&an);
      HeadTable t = an.table();
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
    if (name != "attn_stats") throw Error("probe '" + name + "' is not available in this build");
    task.seek(0);
    Batch batch;
    task.next(batch);
    if (batch.in_dim > 0) throw Error("probe attn_stats needs a token task");
    const ModelConfig& mc = model.config();
    RowStats rs;
    rs.init(mc.n_layers, mc.n_heads);
    rs.rows_per_batch = std::min(batch.B, int(probes_cfg.at("params").value("rows", 4)));
    rs.T = batch.T;
    rs.tokens = batch.tokens.data();
    model.add_observer(&rs);
    try {
      model.forward(batch.tokens.data(), rs.rows_per_batch, batch.T);
    } catch (...) {
      model.remove_observer(&rs);
      throw;
    }
    model.remove_observer(&rs);
    double eps = probes_cfg.at("params").value("sink_eps", 0.3);
    int sinks = 0;
    double ent_sum = 0, best_prefix = 0;
    nlohmann::json table = nlohmann::json::array();
    for (int l = 0; l < rs.L; ++l)
      for (int h = 0; h < rs.H; ++h) {
        size_t k = size_t(l) * rs.H + h;
        double n = std::max<int64_t>(1, rs.n_rows[k]);
        double alpha1 = rs.first_mass[k] / double(std::max<int64_t>(1, rs.n_first[k])), ent = rs.entropy[k] / n, pv = rs.prev[k] / n;
        double pm = rs.n_prefix[k] ? rs.prefix[k] / double(rs.n_prefix[k]) : 0.0;
        res.heads.push_back({run, step, l, h, "sink_alpha1", alpha1});
        res.heads.push_back({run, step, l, h, "entropy", ent});
        res.heads.push_back({run, step, l, h, "prev_token", pv});
        res.heads.push_back({run, step, l, h, "prefix_match", pm});
        sinks += alpha1 > eps;
        ent_sum += ent;
        best_prefix = std::max(best_prefix, pm);
        table.push_back({{"layer", l}, {"head", h}, {"sink_alpha1", alpha1}, {"entropy", ent},
                         {"prev_token", pv}, {"prefix_match", pm}});
      }
    int heads = rs.L * rs.H;
    res.scalars.push_back({run, step, "sink1_pct", 100.0 * sinks / heads});
    res.scalars.push_back({run, step, "mean_entropy", ent_sum / heads});
    res.scalars.push_back({run, step, "max_prefix_match", best_prefix});
    if (final_tables) res.tables.emplace_back(name, table.dump());
  }
  return res;
}

std::vector<AttentionMap> capture_attention_maps(Transformer& model, Task& task, int len, const std::string& run,
                                                 int64_t step) {
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
    model.forward(tokens.data(), 1, T);
  } catch (...) {
    model.remove_observer(&cap);
    throw;
  }
  model.remove_observer(&cap);
  for (AttentionMap& m : cap.maps) {
    m.run = run;
    m.step = step;
  }
  return cap.maps;
}

}  // namespace attnlab::exp
