#include "experiments/device/gpu_analysis.h"

#include <algorithm>

#include "analysis/probe_protocol.h"
#include "core/cuda/select.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "experiments/device/stream_stats_table.h"
#ifdef ATTNLAB_HAVE_CUDA
#include "core/cuda/device_model.h"
#include "core/cuda/runtime.h"
#endif

namespace attnlab {

int gpu_analysis_batch(int opt_batch, int n_layers, int n_heads, int T) {
  // StreamStats: col_mass, entropy, prev_token, induction, duplicate, row_max, cover + 6 top-k.
  const double per_seq = 13.0 * sizeof(float) * n_layers * n_heads * double(T);
  const double budget = double(1 << 30);
  const int fit = int(std::max(1.0, budget / std::max(1.0, per_seq)));
  return std::max(1, std::min(opt_batch, fit));
}

bool gpu_runs_probe(const std::string& probe) { return probe != "retrieval" && probe != "sparsity"; }

std::string retrieval_on_cpu_note() {
  return "the retrieval probe ran on the CPU model: it decodes token by token and reads each step's top-1 "
         "attended key, which the fused GPU statistics pass does not produce";
}

std::string cpu_probe_note(const std::string& probe) {
  if (probe == "retrieval") return retrieval_on_cpu_note();
  return "the " + probe + " probe ran on the CPU model: its per-row key selections have no GPU kernel";
}

#ifdef ATTNLAB_HAVE_CUDA
struct GpuAnalysis::Impl {
  cuda::DeviceTransformer dev;
  std::string description;
  Impl(Transformer& m) : dev(m.config(), m.weights()), description(cuda::device_description()) {}
};
#else
struct GpuAnalysis::Impl {};
#endif

GpuAnalysis::GpuAnalysis(Transformer& model) : model_(model) {
  cuda::resolve_device("cuda");  // throws, saying whether the build or the machine lacks CUDA
#ifdef ATTNLAB_HAVE_CUDA
  impl_ = std::make_unique<Impl>(model);
#endif
}

GpuAnalysis::~GpuAnalysis() = default;

HeadTable GpuAnalysis::analyze_sequences(const std::vector<std::vector<int32_t>>& seqs, int batch,
                                         const MetricOptions& metrics) {
#ifndef ATTNLAB_HAVE_CUDA
  throw Error("GpuAnalysis: this build has no CUDA backend");
#else
  if (seqs.empty()) throw Error("no sequences to analyse");
  const int T = int(seqs[0].size());
  const ModelConfig& cfg = model_.config();
  if (T > cfg.context)
    throw Error("probe sequences of " + std::to_string(T) + " tokens are longer than the model's context (" +
                std::to_string(cfg.context) + ")");
  std::vector<std::string> specs;
  for (int l = 0; l < cfg.n_layers; ++l) specs.push_back(model_.attention(l).spec());
  StreamStatsTable acc(specs, cfg.n_heads, metrics);
  const int bs = gpu_analysis_batch(std::max(1, batch), cfg.n_layers, cfg.n_heads, T);
  std::vector<int32_t> buf;
  std::vector<cuda::StreamStats> stats;
  for (size_t i = 0; i < seqs.size(); i += size_t(bs)) {
    const int B = int(std::min(seqs.size() - i, size_t(bs)));
    buf.clear();
    for (int b = 0; b < B; ++b) {
      const std::vector<int32_t>& s = seqs[i + size_t(b)];
      if (int(s.size()) != T) throw Error("probe sequences differ in length");
      buf.insert(buf.end(), s.begin(), s.end());
    }
    impl_->dev.forward(buf.data(), B, T, nullptr, &stats);  // checks the token ids
    acc.add(stats, buf.data(), B, T);
  }
  HeadTable t = acc.table();
  t.set_meta("device", "cuda");
  t.set_meta("gpu", impl_->description);
  return t;
#endif
}

HeadTable GpuAnalysis::prompt_probe(const std::vector<int32_t>& tokens, const ProbeOptions& opt) {
  if (tokens.empty()) throw Error("the prompt is empty");
  HeadTable t = analyze_sequences({tokens}, 1, opt.metrics);
  t.set_meta("probe", "prompt");
  return t;
}

HeadTable GpuAnalysis::run_probe(const std::string& name, const VocabInfo& vocab, const ProbeOptions& opt) {
  check_probe_name(name);
  if (!gpu_runs_probe(name)) {
    HeadTable t = attnlab::run_probe(name, model_, vocab, opt);
    t.set_meta("device", "cpu");
    t.set_meta("device_note", cpu_probe_note(name));
    return t;
  }
  const ModelConfig& cfg = model_.config();
  const ProbeInputs in = name == "sink"        ? sink_probe_inputs(model_, vocab, opt)
                         : name == "induction" ? induction_probe_inputs(cfg, vocab, opt)
                                               : census_probe_inputs(cfg, vocab, opt);
  HeadTable t = analyze_sequences(in.seqs, opt.batch, opt.metrics);
  set_probe_meta(t, in);
#ifdef ATTNLAB_HAVE_CUDA
  if (name == "induction") {
    const InductionLossInputs loss = induction_loss_inputs(cfg, vocab, opt);
    Tensor logits;
    impl_->dev.forward(loss.tokens.data(), loss.B, loss.T, &logits, nullptr);
    set_induction_loss(t, logits, loss, cfg.vocab_size, opt);
  }
#endif
  if (name == "census") mark_razor_heads(t, opt);
  return t;
}

}  // namespace attnlab
