// The GPU analysis's reduction (StreamStatsTable) checked on the CPU: the reference statistics
// pass (core/cuda/reference.h, the yardstick the GPU tests hold the kernels to) is run on the
// q and k of a real model's CPU forward, folded into a table, and compared with the CPU
// analyzer's table on the same sequences. Together with the GPU tests (kernels == reference)
// this pins `analyze --device cuda` to `--device cpu` without a GPU here.
#ifdef ATTNLAB_HAVE_CUDA
#include <catch2/catch.hpp>

#include <algorithm>

#include "analysis/probe_protocol.h"
#include "analysis/probes.h"
#include "core/cuda/gpu_spec.h"
#include "core/cuda/reference.h"
#include "core/cuda/runtime.h"
#include "core/io/open_model.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "core/tokenizer/tokenizer.h"
#include "experiments/device/gpu_analysis.h"
#include "experiments/device/stream_stats_table.h"
#include "tests/experiments/fused_table_compare.h"
#include "tests/test_support.h"

using namespace attnlab;
using Catch::Matchers::Contains;

namespace {

// Per layer, the reference statistics of the CPU model's own q and k (kv already expanded), with
// the window and sinks the fused kernel would take from the layer's spec.
struct ReferenceStats : ForwardObserver {
  std::vector<cuda::StreamStats> stats;
  const int32_t* tokens = nullptr;
  void on_attention(const LayerAttentionView& v) override {
    const AttnShape& s = v.inputs->shape;
    const cuda::GpuAttentionSpec g = cuda::gpu_attention_spec(v.attention->spec());
    cuda::AttnDims d;
    d.B = s.B, d.Hq = s.H, d.Hkv = s.H, d.T = s.T, d.Dh = s.Dh, d.window = g.window, d.sinks = g.sinks;
    cuda::StreamStats st;
    cuda::ref::attention_stats(d, v.inputs->q, v.inputs->k, tokens, st);
    stats.push_back(std::move(st));
  }
};

// What GpuAnalysis::analyze_sequences computes, with the reference pass in place of the kernels.
HeadTable reference_fused_table(Transformer& model, const std::vector<std::vector<int32_t>>& seqs, int batch,
                                const MetricOptions& metrics) {
  std::vector<std::string> specs;
  for (int l = 0; l < model.config().n_layers; ++l) specs.push_back(model.attention(l).spec());
  StreamStatsTable acc(specs, model.config().n_heads, metrics);
  const int T = int(seqs[0].size());
  for (size_t i = 0; i < seqs.size(); i += size_t(batch)) {
    const int B = int(std::min(seqs.size() - i, size_t(batch)));
    std::vector<int32_t> buf;
    for (int b = 0; b < B; ++b) buf.insert(buf.end(), seqs[i + size_t(b)].begin(), seqs[i + size_t(b)].end());
    ReferenceStats obs;
    obs.tokens = buf.data();
    model.add_observer(&obs);
    model.forward(buf.data(), B, T);
    model.remove_observer(&obs);
    acc.add(obs.stats, buf.data(), B, T);
  }
  return acc.table();
}

OpenedModel& stories() {
  static OpenedModel m = open_model(test::shared_file("models/stories260K/stories260K.gguf").string());
  return m;
}

bool adjacent_repeat(const std::vector<std::vector<int32_t>>& seqs) {
  for (const auto& s : seqs)
    for (size_t t = 1; t < s.size(); ++t)
      if (s[t] == s[t - 1]) return true;
  return false;
}

}  // namespace

TEST_CASE("fused statistics reproduce the CPU analyzer on stories260K (sink probe inputs)", "[gpu_analysis][mapping]") {
  Transformer& model = *stories().model;
  const VocabInfo vocab = VocabInfo::from_tokenizer(*stories().tokenizer, model.config().vocab_size);
  ProbeOptions opt;
  opt.n_seqs = 6, opt.T = 96;  // 6 sequences in batches of 4: a partial last batch
  for (const std::string source : {"natural", "random"}) {
    INFO(source);
    opt.source = source;
    const ProbeInputs in = sink_probe_inputs(model, vocab, opt);
    const HeadTable cpu = analyze_sequences(model, in.seqs, 4, opt.metrics);
    const HeadTable fused = reference_fused_table(model, in.seqs, 4, opt.metrics);
    test::check_fused_matches_cpu(fused, cpu);
    CHECK(fused.has("tl_induction") == !adjacent_repeat(in.seqs));
  }
}

TEST_CASE("fused statistics reproduce the CPU analyzer on stories260K (induction and census inputs)",
          "[gpu_analysis][mapping]") {
  Transformer& model = *stories().model;
  const VocabInfo vocab = VocabInfo::from_tokenizer(*stories().tokenizer, model.config().vocab_size);
  ProbeOptions opt;
  opt.samples = 12;
  opt.census_block = 40;
  for (const ProbeInputs& in : {induction_probe_inputs(model.config(), vocab, opt),
                                census_probe_inputs(model.config(), vocab, opt)}) {
    INFO(in.meta[0].second);
    const HeadTable cpu = analyze_sequences(model, in.seqs, 5, opt.metrics);
    const HeadTable fused = reference_fused_table(model, in.seqs, 5, opt.metrics);
    test::check_fused_matches_cpu(fused, cpu);
    // Blocks drawn without replacement never repeat a token at adjacent positions: TL induction is exact.
    REQUIRE(fused.has("tl_induction"));
    // Some head attends to prefix matches (weakly, in a 260K model): the comparison is not of zeros.
    double best = 0;
    for (int l = 0; l < cpu.n_layers(); ++l)
      for (int h = 0; h < cpu.n_heads(); ++h) best = std::max(best, fused.get("prefix_matching", l, h));
    CHECK(best > 0.02);
  }
}

TEST_CASE("fused statistics follow the key mask of window layers with sinks", "[gpu_analysis][mapping]") {
  ModelConfig cfg;
  cfg.vocab_size = 7, cfg.context = 48, cfg.d_model = 32, cfg.n_layers = 2, cfg.n_heads = 4, cfg.n_kv_heads = 2;
  cfg.d_ff = 64;
  cfg.attention = {"softmax+window(size=6,sinks=2)", "softmax"};
  Transformer model(cfg);
  model.init_weights(3);
  Rng rng(11);
  std::vector<std::vector<int32_t>> seqs(5, std::vector<int32_t>(41));
  for (auto& s : seqs)
    for (auto& x : s) x = int32_t(rng.below(7));  // few ids: many duplicate and prefix matches
  REQUIRE(adjacent_repeat(seqs));
  const HeadTable cpu = analyze_sequences(model, seqs, 2, MetricOptions{});
  const HeadTable fused = reference_fused_table(model, seqs, 2, MetricOptions{});
  test::check_fused_matches_cpu(fused, cpu);
  // x_{t-1} = x_t somewhere: TL induction would need A[t, t], which the streams do not keep.
  CHECK_FALSE(fused.has("tl_induction"));
  CHECK_THAT(fused.meta("not_measured"), Contains("tl_induction (the input repeats a token at adjacent positions)"));
}

TEST_CASE("StreamStatsTable rejects what it cannot reduce", "[gpu_analysis][errors]") {
  MetricOptions other;
  other.cover_p = 0.8;
  CHECK_THROWS_WITH(StreamStatsTable({"softmax"}, 2, other), Contains("coverage at p = 0.9 only"));
  StreamStatsTable t({"softmax", "softmax"}, 2);
  cuda::StreamStats s;
  cuda::AttnDims d;
  d.B = 1, d.Hq = 2, d.Hkv = 2, d.T = 5, d.Dh = 4;
  s.resize(d);
  CHECK_THROWS_WITH(t.add({s}, nullptr, 1, 5), Contains("statistics of 1 layers, expected 2"));
  CHECK_THROWS_WITH(t.add({s, s}, nullptr, 1, 6), Contains("not sized B x H x T = 1 x 2 x 6"));
  CHECK_NOTHROW(t.add({s, s}, nullptr, 1, 5));
}

TEST_CASE("GPU analysis batches keep the streamed statistics near 1 GiB", "[gpu_analysis]") {
  CHECK(gpu_analysis_batch(16, 5, 8, 64) == 16);
  CHECK(gpu_analysis_batch(16, 32, 32, 16384) == 1);  // 872 MB per sequence
  CHECK(gpu_analysis_batch(16, 12, 12, 16384) == 8);  // 123 MB
  CHECK(gpu_analysis_batch(0, 1, 1, 1) == 1);
  CHECK(gpu_runs_probe("sink"));
  CHECK(gpu_runs_probe("census"));
  CHECK_FALSE(gpu_runs_probe("retrieval"));
}

TEST_CASE("GpuAnalysis without a usable GPU throws a clear error", "[gpu_analysis][errors]") {
  if (cuda::cuda_available()) {
    SUCCEED("a GPU is present: the GPU suite (tests/cuda/gpu/test_analyze_gpu.cpp) covers this path");
    return;
  }
  CHECK_THROWS_WITH(GpuAnalysis(*stories().model), Contains("--device cuda needs a CUDA GPU"));
}
#endif  // ATTNLAB_HAVE_CUDA
