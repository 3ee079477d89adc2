// The sparse-attention sweep probes (research_probes.h: sparsity, sparse_eval, hybrid_kv).
#include <algorithm>
#include <cmath>

#include "analysis/probes.h"
#include "analysis/sparse/recall_analyzer.h"
#include "analysis/sparse/selector.h"
#include "analysis/sparse/sparse_eval.h"
#include "core/attention/spec.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "datasets/task_registry.h"
#include "experiments/runner/analyze_model.h"
#include "experiments/runner/research_probes.h"

namespace attnlab::exp {

namespace {

void add_scalar(ProbeResult& out, const std::string& run, int64_t step, const std::string& name,
                double v) {
  if (std::isfinite(v)) out.scalars.push_back({run, step, name, v});
}

// Runs `obs` on rows of batch `index` of the task.
void forward_batch(Transformer& model, Task& task, int index, int rows, ForwardObserver& obs) {
  task.seek(index);
  Batch b;
  task.next(b);
  if (b.in_dim > 0) throw Error("sparse probes need a token task");
  model.add_observer(&obs);
  try {
    model.forward(b.tokens.data(), std::min(rows, b.B), b.T);
  } catch (...) {
    model.remove_observer(&obs);
    throw;
  }
  model.remove_observer(&obs);
}

}  // namespace

void sparsity_sweep_probe(Transformer& model, Task& task, const nlohmann::json& params,
                          const std::string& run, int64_t step, bool final_tables,
                          ProbeResult& out) {
  const ModelConfig& mc = model.config();
  const int rows = std::max(1, int(params.value("rows", 4)));
  SparsityAnalyzer an(mc.n_layers, mc.n_heads,
                      parse_pattern_list(params.value(
                          "sparse_patterns", std::string("topk(k=16);window(size=12,sinks=4)"))),
                      parse_budgets(params.value("sparse_budgets", std::string())));
  ChannelCalibration cal(mc.n_layers, mc.n_heads);
  if (an.needs_calibration()) {
    forward_batch(model, task, 1, rows, cal);  // another batch than the one measured
    an.set_calibration(&cal);
  }
  forward_batch(model, task, 0, rows, an);
  const HeadTable t = an.table();
  for (const std::string& m : t.metrics()) {
    double sum = 0;
    int n = 0;
    for (int l = 0; l < t.n_layers(); ++l)
      for (int h = 0; h < t.n_heads(); ++h) {
        const double v = t.get(m, l, h);
        if (!std::isfinite(v)) continue;
        out.heads.push_back({run, step, l, h, "sparsity/" + m, v});
        sum += v;
        ++n;
      }
    if (n > 0 && m.size() > 7 && m.compare(m.size() - 7, 7, ".recall") == 0)
      add_scalar(out, run, step, "sparsity/" + m + "_mean", sum / n);
  }
  if (final_tables) out.tables.emplace_back("sparsity", t.to_json().dump());
}

void sparse_eval_probe(Transformer& model, Task& task, const nlohmann::json& params,
                       const std::string& run, int64_t step, ProbeResult& out) {
  SparseEvalOptions opt;
  opt.pattern = params.value("sparse_pattern", std::string("topk"));
  opt.heads = params.value("sparse_heads", std::string("all"));
  opt.batches = std::max(1, int(params.value("sparse_batches", 2)));
  const nlohmann::json prefill = params.value("sparse_prefill", nlohmann::json(0));
  parse_prefill(prefill.is_string() ? prefill.get<std::string>() : prefill.dump(), opt);
  const std::vector<std::string> budgets =
      split_list(params.value("sparse_budgets", std::string("25%")));
  const std::vector<std::string> phases =
      split_list(params.value("sparse_phases", std::string("prefill,decode")));
  // Each phase with its own method, as the Sparse Frontier pairs them: "prefill:vertical_slash(..);
  // decode:quest(..);kv:snapkv(..)". All checked before anything runs.
  struct Method {
    std::string phase, pattern, name;
  };
  std::vector<Method> methods;
  for (const std::string& item : split_spec_list(params.value("sparse_methods", std::string()))) {
    const size_t colon = item.find(':');
    auto fail = [&](const std::string& why) {
      throw Error("probe sparse_eval: sparse_methods item '" + item + "': " + why);
    };
    if (colon == std::string::npos) fail("not phase:pattern (e.g. decode:quest(page=4))");
    Method m{item.substr(0, colon), item.substr(colon + 1), ""};
    try {
      parse_sparse_phase(m.phase);
      make_selector(m.pattern);
    } catch (const Error& e) {
      fail(e.what());
    }
    m.name = m.pattern.substr(0, m.pattern.find('('));
    for (const Method& o : methods)
      if (o.phase == m.phase && o.name == m.name)
        fail("a second " + m.name + " under " + m.phase + " would write the same metrics");
    methods.push_back(m);
  }
  if (budgets.empty() || (phases.empty() && methods.empty()))
    throw Error(
        "probe sparse_eval: sparse_budgets, or both sparse_phases and sparse_methods, name none");
  for (const std::string& b : budgets) parse_budget(b);
  // One model at several lengths, as the Sparse Frontier measures length: the task remade at
  // each (a needle task trained with len_min then evaluates at fixed lengths), scalars under
  // "sparse/T<len>/".
  std::vector<std::pair<std::string, std::unique_ptr<Task>>> tasks;
  for (const std::string& item : split_list(params.value("sparse_lens", std::string()))) {
    const std::string what = "probe sparse_eval: sparse_lens '" + item + "': ";
    const int len = parse_whole_number(item).value_or(0);
    if (len < 1) throw Error(what + "not a length in tokens");
    if (len > model.config().context)
      throw Error(what + "exceeds the model's context (" + std::to_string(model.config().context) +
                  ")");
    std::unique_ptr<Task> t;
    try {
      t = fixed_length_task(task, len);
    } catch (const Error& e) {
      throw Error(what + e.what());
    }
    tasks.emplace_back("sparse/T" + std::to_string(len) + "/", std::move(t));
  }
  const std::string pattern = opt.pattern;
  auto measure_on = [&](Task& t, const std::string& root) {
    bool first = true;
    auto measure = [&](const std::string& prefix) {
      for (const std::string& budget : budgets) {
        opt.budget = budget;
        const SparseEvalResult r = sparse_eval(model, t, opt);
        const std::string p = prefix + parse_budget(budget).str() + "/";
        add_scalar(out, run, step, p + "dce", r.dce);
        add_scalar(out, run, step, p + "kl", r.kl);
        add_scalar(out, run, step, p + "dacc", r.dacc);
        add_scalar(out, run, step, p + "acc", r.acc_sparse);
        add_scalar(out, run, step, p + "density", r.density);
        if (first) add_scalar(out, run, step, root + "acc_dense", r.acc_dense);
        first = false;
      }
    };
    opt.pattern = pattern;
    for (const std::string& phase : phases) {
      opt.phase = phase;
      measure(root + phase + "/");
    }
    for (const Method& m : methods) {
      opt.phase = m.phase;
      opt.pattern = m.pattern;
      measure(root + m.name + "/" + m.phase + "/");
    }
  };
  if (tasks.empty()) {
    const std::unique_ptr<Task> fixed = fixed_length_task(task);  // a needle's len_min dropped
    measure_on(fixed ? *fixed : task, "sparse/");
  }
  for (auto& [root, t] : tasks) measure_on(t ? *t : task, root);
}

void hybrid_kv_probe(Transformer& model, Task& task, const nlohmann::json& params,
                     const std::string& run, int64_t step, ProbeResult& out) {
  if (task.name() != "needle")
    throw Error("probe hybrid_kv needs the needle task, not " + task.name());
  const ModelConfig& mc = model.config();
  const int L = mc.n_layers, H = mc.n_heads;
  ProbeOptions popt;
  popt.retrieval_task = task.describe();
  popt.retrieval_trials = params.value("retrieval_trials", 32);
  const HeadTable t = retrieval_probe(model, VocabInfo::from_config(mc), popt);
  std::vector<HeadRef> order;
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h) order.push_back({l, h});
  // Undefined scores (no accepted trial) rank last; ties keep the head order.
  auto score = [&](const HeadRef& r) {
    const double v = t.get("retrieval_score", r.layer, r.head);
    return std::isfinite(v) ? v : -1.0;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](const HeadRef& a, const HeadRef& b) { return score(a) > score(b); });
  // Protected: Wu's retrieval heads (score > 0.1) by default, or the top `protect_k` by score.
  int k = 0;
  if (params.contains("protect_k")) {
    k = int(params.value("protect_k", 2));
  } else {
    while (k < L * H && score(order[size_t(k)]) > popt.retrieval_threshold) ++k;
  }
  k = std::clamp(k, 0, std::max(1, L * H - 1));
  const int draws = std::max(1, int(params.value("ablate_draws", 5)));
  SparseEvalOptions opt;
  opt.pattern = "window(size=" + std::to_string(int(params.value("hybrid_window", 4))) +
                ",sinks=" + std::to_string(int(params.value("hybrid_sinks", 1))) + ")";
  opt.phase = "kv";
  opt.batches = std::max(1, int(params.value("sparse_batches", 2)));
  const std::unique_ptr<Task> fixed = fixed_length_task(task);  // a needle's len_min dropped
  Task& eval_task = fixed ? *fixed : task;
  // Every head but the protected ones runs sink + window.
  auto run_with = [&](const std::vector<HeadRef>& protect) {
    std::string heads;
    for (const HeadRef& r : order)
      if (std::find(protect.begin(), protect.end(), r) == protect.end())
        heads += (heads.empty() ? "" : ",") + r.str();
    opt.heads = heads;
    return sparse_eval(model, eval_task, opt);
  };
  const std::vector<HeadRef> top(order.begin(), order.begin() + k);
  const SparseEvalResult rt = run_with(top);
  add_scalar(out, run, step, "hybrid/acc_dense", rt.acc_dense);
  add_scalar(out, run, step, "hybrid/protected_heads", k);
  if (k == 0) return;  // no retrieval head to protect: the policy is undefined
  Rng rng(uint64_t(params.value("ablate_seed", 0)) * 7919 + uint64_t(step));
  std::vector<HeadRef> rest(order.begin() + k, order.end());
  double rand_acc = 0;
  for (int d = 0; d < draws; ++d) {
    for (int i = 0; i < k && i < int(rest.size()); ++i)
      std::swap(rest[size_t(i)], rest[size_t(i + rng.below(int64_t(rest.size()) - i))]);
    rand_acc += run_with(std::vector<HeadRef>(
                             rest.begin(), rest.begin() + std::min<size_t>(size_t(k), rest.size())))
                    .acc_sparse;
  }
  rand_acc /= draws;
  // KV kept: the protected heads all of it, the others their density.
  const double kept = (double(k) + double(L * H - k) * rt.density) / double(L * H);
  add_scalar(out, run, step, "hybrid/acc_retrieval", rt.acc_sparse);
  add_scalar(out, run, step, "hybrid/acc_random", rand_acc);
  add_scalar(out, run, step, "hybrid/retrieval_drop", rt.acc_dense - rt.acc_sparse);
  add_scalar(out, run, step, "hybrid/random_drop", rt.acc_dense - rand_acc);
  add_scalar(out, run, step, "hybrid/kv_saving", 1.0 - kept);
}

}  // namespace attnlab::exp
