#include "analysis/sparse/sparse_eval.h"

#include <algorithm>
#include <cmath>

#include "analysis/sequence_mean.h"
#include "core/attention/spec.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "datasets/task.h"

namespace attnlab {

namespace {

// Log-probabilities of one logits row.
void log_softmax(const float* x, int V, std::vector<double>& out) {
  out.resize(size_t(V));
  double m = -INFINITY;
  for (int i = 0; i < V; ++i) m = std::max(m, double(x[i]));
  double s = 0;
  for (int i = 0; i < V; ++i) s += std::exp(double(x[i]) - m);
  const double lse = m + std::log(s);
  for (int i = 0; i < V; ++i) out[size_t(i)] = double(x[i]) - lse;
}

int argmax(const float* x, int V) { return int(std::max_element(x, x + V) - x); }

// Detaches the observer however the forward ends.
struct Attached {
  Transformer& m;
  ForwardObserver* o;
  Attached(Transformer& model, ForwardObserver* obs) : m(model), o(obs) { m.add_observer(o); }
  ~Attached() { m.remove_observer(o); }
};

}  // namespace

void SparseEvalResult::write(HeadTable& t, const std::string& p) const {
  for (const auto& [k, v] :
       std::vector<std::pair<std::string, double>>{{"dce", dce},
                                                   {"dce_ci95", dce_ci95},
                                                   {"kl", kl},
                                                   {"kl_ci95", kl_ci95},
                                                   {"acc_dense", acc_dense},
                                                   {"acc_sparse", acc_sparse},
                                                   {"dacc", dacc},
                                                   {"dacc_ci95", dacc_ci95},
                                                   {"task_dense", task_dense},
                                                   {"task_sparse", task_sparse},
                                                   {"density", density},
                                                   {"prefill", double(prefill)},
                                                   {"sequences", double(sequences)}})
    t.set_scalar(p + k, v);
  t.set_meta(p + "pattern", label);
  t.set_meta(p + "task_metric", task_metric);
}

void parse_prefill(const std::string& s, SparseEvalOptions& opt) {
  opt.prompt_prefill = s == "prompt";
  opt.prefill = 0;
  if (opt.prompt_prefill) return;
  const std::optional<int> n = parse_whole_number(s);
  if (!n || *n < 0)
    throw Error("prefill '" + s + "': give a token count, 0 (the first scored position) or prompt");
  opt.prefill = *n;
}

SparseEvalResult sparse_eval(Transformer& model, Task& task, const SparseEvalOptions& opt) {
  const ModelConfig& cfg = model.config();
  if (opt.batches < 1) throw Error("sparse eval: batches must be >= 1");
  const SparsePhase phase = parse_sparse_phase(opt.phase);
  std::vector<Budget> budgets = parse_budgets(opt.budget);
  if (budgets.size() > 1)
    throw Error("sparse eval: one budget at a time (got '" + opt.budget + "')");
  const std::vector<HeadRef> heads = parse_head_selection(opt.heads, cfg.n_layers, cfg.n_heads);

  Batch batch;
  task.seek(0);
  task.next(batch);
  if (batch.in_dim > 0) throw Error("sparse eval needs a token task");
  int prefill = opt.prefill;
  if (prefill <= 0) {
    prefill = batch.T;
    for (size_t i = 0; i < batch.mask.size(); ++i)
      if (batch.mask[i] > 0) prefill = std::min(prefill, int(i % size_t(batch.T)));
    if (opt.prompt_prefill) prefill = std::min(prefill + 1, batch.T);
    prefill = std::max(prefill, 1);
  }
  SparseReplacement rep(opt.pattern, budgets.empty() ? nullptr : &budgets[0], phase, prefill, heads,
                        cfg.n_layers, cfg.n_heads);
  ChannelCalibration cal(cfg.n_layers, cfg.n_heads);
  if (make_selector(opt.pattern)->needs_channels()) {
    Batch cb;
    task.seek(opt.batches);
    task.next(cb);
    Attached a(model, &cal);
    model.forward_without_logits(cb.tokens.data(), cb.B, cb.T);
    rep.set_calibration(&cal);
  }

  SequenceMean dce, kl, dacc;
  double acc_d = 0, acc_s = 0, task_d = 0, task_s = 0;
  int64_t scored = 0;
  SparseEvalResult res;
  const int V = cfg.vocab_size;
  std::vector<double> lp, lq;
  for (int bi = 0; bi < opt.batches; ++bi) {
    task.seek(bi);
    task.next(batch);
    const std::vector<SampleMeta> meta = task.meta();
    const Tensor dense = model.forward(batch.tokens.data(), batch.B, batch.T);
    Tensor sparse;
    {
      Attached a(model, &rep);
      sparse = model.forward(batch.tokens.data(), batch.B, batch.T);
    }
    const std::vector<TaskMetric> md = task.score_rows(batch, meta, dense),
                                  ms = task.score_rows(batch, meta, sparse);
    res.task_metric = md.at(0).name;
    task_d += md[0].value;
    task_s += ms[0].value;
    for (int b = 0; b < batch.B; ++b) {
      double ce_d = 0, ce_s = 0, k = 0, ad = 0, as = 0, w = 0;
      for (int t = 0; t < batch.T; ++t) {
        const size_t i = size_t(b) * batch.T + t;
        if (batch.mask[i] <= 0) continue;
        const float* xd = dense.ptr() + int64_t(i) * V;
        const float* xs = sparse.ptr() + int64_t(i) * V;
        log_softmax(xd, V, lp);
        log_softmax(xs, V, lq);
        const int y = batch.targets[i];
        ce_d += -lp[size_t(y)];
        ce_s += -lq[size_t(y)];
        for (int c = 0; c < V; ++c) k += std::exp(lp[size_t(c)]) * (lp[size_t(c)] - lq[size_t(c)]);
        ad += argmax(xd, V) == y;
        as += argmax(xs, V) == y;
        w += 1;
      }
      if (w == 0) continue;
      dce.add_sequence((ce_s - ce_d) / w);
      kl.add_sequence(k / w);
      dacc.add_sequence((as - ad) / w);
      acc_d += ad;
      acc_s += as;
      scored += int64_t(w);
    }
  }
  if (scored == 0) throw Error("sparse eval: the task scores no position");
  res.dce = dce.mean();
  res.dce_ci95 = dce.ci95();
  res.kl = kl.mean();
  res.kl_ci95 = kl.ci95();
  res.dacc = dacc.mean();
  res.dacc_ci95 = dacc.ci95();
  res.acc_dense = acc_d / double(scored);
  res.acc_sparse = acc_s / double(scored);
  res.task_dense = task_d / opt.batches;
  res.task_sparse = task_s / opt.batches;
  res.density = rep.density();
  res.prefill = prefill;
  res.sequences = int(dce.sequences());
  res.label = rep.label() + " phase=" + sparse_phase_name(phase) + " heads=" + opt.heads;
  return res;
}

HeadTable sparse_eval_table(Transformer& model, Task& task, const SparseEvalOptions& opt) {
  const ModelConfig& cfg = model.config();
  HeadTable t(cfg.n_layers, cfg.n_heads);
  if (opt.heads != "each") {
    sparse_eval(model, task, opt).write(t);
  } else {
    SparseEvalOptions one = opt;
    SparseEvalResult r;
    for (int l = 0; l < cfg.n_layers; ++l)
      for (int h = 0; h < cfg.n_heads; ++h) {
        one.heads = HeadRef{l, h}.str();
        r = sparse_eval(model, task, one);
        t.set("sparse_dce", l, h, r.dce);
        t.set_ci95("sparse_dce", l, h, r.dce_ci95);
        t.set("sparse_kl", l, h, r.kl);
        t.set("sparse_dacc", l, h, r.dacc);
        t.set("sparse_density", l, h, r.density);
      }
    t.set_meta("sparse.pattern", r.label);
    t.set_meta("sparse.task_metric", r.task_metric);
    t.set_scalar("sparse.prefill", r.prefill);
  }
  t.set_meta("sparse.phase", opt.phase);
  t.set_meta("sparse.heads", opt.heads);
  t.set_meta("sparse.task", task.describe());
  return t;
}

}  // namespace attnlab
