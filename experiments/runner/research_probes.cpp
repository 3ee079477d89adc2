#include "experiments/runner/research_probes.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "analysis/ablation.h"
#include "analysis/active_dormant.h"
#include "analysis/probes.h"
#include "analysis/streaming_eval.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "datasets/bigram_backcopy.h"

namespace attnlab::exp {

namespace {

Batch first_batch(Task& task, int index = 0) {
  task.seek(index);
  Batch b;
  task.next(b);
  return b;
}

void add_table_heads(const HeadTable& t, const std::string& run, int64_t step, ProbeResult& out) {
  for (const std::string& m : t.metrics())
    for (int l = 0; l < t.n_layers(); ++l)
      for (int h = 0; h < t.n_heads(); ++h) {
        const double v = t.get(m, l, h);
        if (std::isfinite(v)) out.heads.push_back({run, step, l, h, m, v});
      }
}

void add_scalar(ProbeResult& out, const std::string& run, int64_t step, const std::string& name,
                double v) {
  if (std::isfinite(v))
    out.scalars.push_back({run, step, name, v});  // the store keeps numbers only
}

}  // namespace

void streaming_probe(Transformer& model, Task& task, const nlohmann::json& params,
                     const std::string& run, int64_t step, ProbeResult& out) {
  const int window = params.value("stream_window", 16), sinks = params.value("stream_sinks", 4);
  const int n = std::max(1, int(params.value("stream_batches", 2)));
  if (window + sinks >= task.seq_len())
    throw Error("probe streaming: stream_window + stream_sinks (" + std::to_string(window + sinks) +
                ") must be below the sequence length (" + std::to_string(task.seq_len()) +
                "), or nothing is evicted");
  std::vector<Batch> batches;
  for (int i = 0; i < n; ++i) batches.push_back(first_batch(task, i));
  const StreamingLosses s = streaming_losses(model, batches, window, sinks);
  add_scalar(out, run, step, "stream_loss_dense", s.dense);
  add_scalar(out, run, step, "stream_loss_window", s.window);
  add_scalar(out, run, step, "stream_loss_sinks", s.sinks);
  add_scalar(out, run, step, "stream_window_ratio", s.window / s.dense);
  add_scalar(out, run, step, "stream_sinks_ratio", s.sinks / s.dense);
  // Share of the eviction's loss increase that the sinks win back; undefined without an increase.
  if (s.window - s.dense > 1e-3)
    add_scalar(out, run, step, "stream_recovery", (s.window - s.sinks) / (s.window - s.dense));
}

void active_dormant_probe(Transformer& model, Task& task, const nlohmann::json& params,
                          const std::string& run, int64_t step, ProbeResult& out) {
  const auto* bb = dynamic_cast<const BigramBackcopyTask*>(&task);
  if (!bb)
    throw Error(
        "probe active_dormant needs the bigram_backcopy task (its trigger characters), not " +
        task.name());
  std::vector<char> trig(size_t(bb->vocab_size()), 0);
  for (int id : bb->trigger_tokens()) trig[size_t(id)] = 1;
  Batch b = first_batch(task);
  const int rows = std::min(b.B, int(params.value("rows", 16)));
  const ModelConfig& mc = model.config();
  ActiveDormantStats st(mc.n_layers, mc.n_heads, trig);
  st.set_tokens(b.tokens.data(), rows, b.T);
  model.add_observer(&st);
  try {
    model.forward_without_logits(b.tokens.data(), rows, b.T);
  } catch (...) {
    model.remove_observer(&st);
    throw;
  }
  model.remove_observer(&st);
  add_table_heads(st.table(), run, step, out);
}

namespace {

// Task accuracy on the probe batch with `heads` ablated (uniform attention over visible keys).
double ablated_accuracy(Transformer& model, Task& task, const std::vector<HeadRef>& heads,
                        const std::string& run) {
  const ModelConfig& mc = model.config();
  HeadAblation abl(heads, AblationMode::uniform, mc.n_layers, mc.n_heads);
  if (!heads.empty()) model.add_observer(&abl);
  std::vector<ScalarRow> s;
  try {
    s = score_task(model, task, run, 0);
  } catch (...) {
    model.remove_observer(&abl);
    throw;
  }
  model.remove_observer(&abl);
  for (const ScalarRow& r : s)
    if (r.name == "task/accuracy") return r.value;
  throw Error("probe retrieval: the task reports no accuracy");
}

}  // namespace

namespace {

// The causal test shared by the retrieval and induction probes. Writes "<prefix>/acc" (the
// task's accuracy, nothing masked); then, where `rankable` and the model has two heads or more,
// masks the heads whose `score` in `t` exceeds `threshold` (or the top `ablate_k` by score; at
// most half the heads) together with uniform attention, and compares with two controls, each a
// mean over `ablate_draws` random sets of as many heads: drawn from all other heads (Wu et al.'s
// control), and drawn from the other heads of the same layers (in a 2-layer model the first
// layer holds the heads every later one reads from, and a random draw that hits them tests
// those). The second is undefined where a layer has too few other heads.
void ablate_with_controls(Transformer& model, Task& task, const HeadTable& t,
                          const std::string& score, double threshold, bool rankable,
                          const nlohmann::json& params, const std::string& prefix,
                          const std::string& run, int64_t step, ProbeResult& out) {
  const ModelConfig& mc = model.config();
  const int L = mc.n_layers, H = mc.n_heads;
  auto put = [&](const std::string& name, double v) {
    add_scalar(out, run, step, prefix + "/" + name, v);
  };
  const double base = ablated_accuracy(model, task, {}, run);
  put("acc", base);
  if (!rankable || L * H < 2) return;

  std::vector<HeadRef> order;
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h) order.push_back({l, h});
  auto value = [&](const HeadRef& r) {
    const double v = t.get(score, r.layer, r.head);
    return std::isnan(v) ? -std::numeric_limits<double>::infinity() : v;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](const HeadRef& a, const HeadRef& b) { return value(a) > value(b); });
  put("top_score", value(order[0]));
  int k = 0;
  if (params.contains("ablate_k")) {
    k = int(params.value("ablate_k", 2));
  } else {
    while (k < L * H && value(order[size_t(k)]) > threshold) ++k;
    if (k == 0) return;  // no head above the threshold: nothing to mask
  }
  k = std::clamp(k, 1, std::max(1, L * H / 2));
  const int draws = std::max(1, int(params.value("ablate_draws", 5)));
  const std::vector<HeadRef> top(order.begin(), order.begin() + k);
  put("ablated_heads", k);
  const double top_acc = ablated_accuracy(model, task, top, run);
  put("acc_top_ablated", top_acc);
  put("top_drop", base - top_acc);

  std::vector<HeadRef> rest(order.begin() + k, order.end());
  std::vector<std::vector<HeadRef>> rest_in_layer(static_cast<size_t>(L));
  std::vector<int> top_in_layer(size_t(L), 0);
  for (const HeadRef& r : rest) rest_in_layer[size_t(r.layer)].push_back(r);
  for (const HeadRef& r : top) ++top_in_layer[size_t(r.layer)];
  bool matchable = true;
  for (int l = 0; l < L; ++l)
    matchable = matchable && int(rest_in_layer[size_t(l)].size()) >= top_in_layer[size_t(l)];
  Rng rng(uint64_t(params.value("ablate_seed", 0)) * 7919 + uint64_t(step));
  auto draw_from = [&](std::vector<HeadRef>& pool, int n, std::vector<HeadRef>& into) {
    for (int i = 0; i < n; ++i) {
      std::swap(pool[size_t(i)], pool[size_t(i + rng.below(int64_t(pool.size()) - i))]);
      into.push_back(pool[size_t(i)]);
    }
  };
  double rand_acc = 0, layer_acc = 0;
  // A layer with exactly as many other heads as it needs gives the same set every draw:
  // evaluated once, the draws still taken for the RNG's sake.
  std::vector<HeadRef> last_same;
  double last_same_acc = 0;
  auto by_index = [](const HeadRef& a, const HeadRef& b) {
    return a.layer != b.layer ? a.layer < b.layer : a.head < b.head;
  };
  for (int d = 0; d < draws; ++d) {
    std::vector<HeadRef> any;
    draw_from(rest, k, any);
    rand_acc += ablated_accuracy(model, task, any, run);
    if (!matchable) continue;
    std::vector<HeadRef> same;
    for (int l = 0; l < L; ++l) draw_from(rest_in_layer[size_t(l)], top_in_layer[size_t(l)], same);
    std::sort(same.begin(), same.end(), by_index);
    if (d == 0 || same != last_same) {
      last_same = same;
      last_same_acc = ablated_accuracy(model, task, same, run);
    }
    layer_acc += last_same_acc;
  }
  rand_acc /= draws;
  put("acc_random_ablated", rand_acc);
  put("ablation_gap", rand_acc - top_acc);
  put("random_drop", base - rand_acc);
  if (matchable) {
    layer_acc /= draws;
    put("acc_random_same_layers", layer_acc);
    put("same_layers_gap", layer_acc - top_acc);
    put("same_layers_drop", base - layer_acc);
  }
}

}  // namespace

void retrieval_ablation_probe(Transformer& model, Task& task, const nlohmann::json& params,
                              const std::string& run, int64_t step, bool final_tables,
                              ProbeResult& out) {
  if (task.name() != "needle")
    throw Error("probe retrieval needs the needle task, not " + task.name());
  ProbeOptions opt;
  opt.retrieval_task = task.describe();
  opt.retrieval_trials = params.value("retrieval_trials", 32);
  const HeadTable t = retrieval_probe(model, VocabInfo::from_config(model.config()), opt);
  add_table_heads(t, run, step, out);
  add_scalar(out, run, step, "retrieval/heads", t.scalar("retrieval_heads"));
  add_scalar(out, run, step, "retrieval/heads_pct", t.scalar("retrieval_heads_pct"));
  add_scalar(out, run, step, "retrieval/answer_recall", t.scalar("answer_recall"));
  if (final_tables) out.tables.emplace_back("retrieval", t.to_json().dump());
  // Scores are undefined when no trial was accepted: nothing to rank or mask then.
  ablate_with_controls(model, task, t, "retrieval_score", opt.retrieval_threshold,
                       t.scalar("accepted_trials") > 0, params, "retrieval", run, step, out);
}

void induction_ablation_probe(Transformer& model, Task& task, const nlohmann::json& params,
                              const std::string& run, int64_t step, ProbeResult& out) {
  const HeadTable t = analyse_probe_batch(model, task, params, "induction_ablation");
  ablate_with_controls(model, task, t, "prefix_matching",
                       params.value("induction_threshold", 0.3), true, params, "induction", run,
                       step, out);
}

}  // namespace attnlab::exp
