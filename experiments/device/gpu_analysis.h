#pragma once
// `attnlab analyze --device cuda`: the standard probes on the GPU model's fused statistics pass
// (core/cuda/device_model.h), which measures every head without writing T x T anywhere, so long
// contexts fit. Same input sequences and metadata as the CPU probes (analysis/probe_protocol.h),
// same metric names and definitions where the fused pass measures them (stream_stats_table.h);
// the CPU path stays the reference.
//
// What runs where: sink, induction (prefix matching, TL scores, echo, and the TL induction loss
// from GPU logits), census and --prompt run on the GPU. Retrieval decodes token by token and
// reads each step's top-1 attended key, which the fused pass does not produce: it runs on the
// CPU model (retrieval_on_cpu_note()), as does sparsity (per-row key selection). Metrics that need whole rows, value states or the residual
// stream are left out and listed in the table's meta "not_measured".
//
// CUDA-free header: it compiles in every build; without the CUDA backend or a GPU the
// constructor throws attnlab::Error saying which is missing.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analysis/head_table.h"
#include "analysis/probes.h"

namespace attnlab {

class Transformer;

class GpuAnalysis {
 public:
  // Uploads the model's weights. Throws attnlab::Error when this build has no CUDA backend or
  // this machine no usable GPU, or when the GPU model cannot take the architecture.
  explicit GpuAnalysis(Transformer& model);
  ~GpuAnalysis();
  GpuAnalysis(const GpuAnalysis&) = delete;
  GpuAnalysis& operator=(const GpuAnalysis&) = delete;

  // Like run_probe/prompt_probe/analyze_sequences in analysis/probes.h; every table carries meta
  // "device" (and "gpu", the device description).
  HeadTable run_probe(const std::string& name, const VocabInfo& vocab, const ProbeOptions& opt);
  HeadTable prompt_probe(const std::vector<int32_t>& tokens, const ProbeOptions& opt);
  HeadTable analyze_sequences(const std::vector<std::vector<int32_t>>& seqs, int batch, const MetricOptions& metrics);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Transformer& model_;
};

// Whether `probe` runs on the GPU (false: GpuAnalysis::run_probe runs it on the CPU model).
bool gpu_runs_probe(const std::string& probe);
// The note printed and recorded when the retrieval probe falls back to the CPU.
std::string retrieval_on_cpu_note();
// The same for any probe that runs on the CPU (retrieval, sparsity).
std::string cpu_probe_note(const std::string& probe);

// Sequences per GPU forward: opt_batch, lowered so that one forward's streamed statistics
// (13 floats per layer, head and position, copied to the host) stay within about 1 GiB.
int gpu_analysis_batch(int opt_batch, int n_layers, int n_heads, int T);

}  // namespace attnlab
