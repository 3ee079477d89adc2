#pragma once
// Probes for single published findings, each more than one look at the probe batch (so they are
// not analyzer metrics). Each appends its rows to `out`; `params` is [probes.params].
//   streaming       StreamingLLM (R7): loss on positions t >= W with full attention, a window of
//                   W keys, and the window plus the first S keys (analysis/streaming_eval.h).
//                   params: stream_window (16), stream_sinks (4), stream_batches (2).
//   active_dormant  Guo et al. (R3) on bigram_backcopy: BOS mass of trigger vs other queries,
//                   BOS value norm and score gap per head (analysis/active_dormant.h).
//   retrieval       Wu et al. (R10) on a needle task: retrieval score per head, then the task's
//                   accuracy ("retrieval/acc") with the retrieval heads (score > 0.1; or the
//                   top `ablate_k` by score) ablated together ("acc_top_ablated"; uniform
//                   attention, Wu's masking), with as many random other heads ablated
//                   ("acc_random_ablated", Wu's control) and with as many random other heads
//                   from the same layers ("acc_random_same_layers"), each a mean over draws.
//                   params: retrieval_trials (32), ablate_k (unset: the retrieval heads),
//                   ablate_draws (5).
//   induction_ablation  Olsson et al. (R8): prefix matching per head on the probe batch (the
//                   analysis engine's, as attn_stats), then the task's accuracy with the induction
//                   heads (prefix matching > `induction_threshold`, 0.3; or the top `ablate_k`)
//                   masked together, against the same two random controls as retrieval:
//                   scalars "induction/acc", "induction/acc_top_ablated", "induction/top_drop",
//                   "induction/acc_random_ablated", "induction/acc_random_same_layers", ...
//                   params: induction_threshold, ablate_k, ablate_draws (5), rows (4).
//   sparsity        the sparse-attention recall engine (analysis/sparse/recall_analyzer.h) on the
//                   first `rows` (4) rows of the probe batch: head metrics "sparsity/<label>.<stat>"
//                   and scalars "sparsity/<label>.recall_mean" (mean over heads).
//                   params: sparse_patterns ("topk(k=16);window(size=12,sinks=4)"), sparse_budgets ("").
//   sparse_eval     sparse replacement (analysis/sparse/sparse_eval.h) at every phase x budget:
//                   scalars "sparse/<phase>/<budget>/{dce,kl,dacc,acc,density}" and "sparse/acc_dense".
//                   params: sparse_pattern ("topk"), sparse_budgets ("25%"), sparse_phases
//                   ("prefill,decode"), sparse_heads ("all"), sparse_batches (2),
//                   sparse_methods ("": each phase with its own pattern, e.g.
//                   "prefill:vertical_slash;decode:quest(page=4);kv:snapkv(local=4,prefix=1)",
//                   scalars "sparse/<pattern name>/<phase>/<budget>/...", at every budget),
//                   sparse_prefill (0: the task's first scored position; "prompt": that + 1,
//                   as a generator prefills the prompt; or a token count), sparse_lens ("": the
//                   task as trained; "32,64": the task remade at each length, scalars
//                   "sparse/T<len>/...").
//   hybrid_kv       RazorAttention / DuoAttention on a needle task: the retrieval heads (Wu's
//                   score > 0.1; or the top `protect_k` by score) keep full attention, every
//                   other head keeps only sinks + window in its KV cache (window(size,sinks)
//                   under the kv schedule); against as many random protected heads. Scalars
//                   "hybrid/acc_dense", "hybrid/protected_heads", and where some head is
//                   protected "hybrid/acc_retrieval", "hybrid/acc_random" (mean of draws),
//                   "hybrid/kv_saving", "hybrid/retrieval_drop", "hybrid/random_drop".
//                   params: protect_k (unset: the retrieval heads), hybrid_window (4),
//                   hybrid_sinks (1), ablate_draws (5), retrieval_trials (32), sparse_batches (2).
#include <nlohmann/json.hpp>
#include <string>

#include "experiments/runner/probes.h"

namespace attnlab::exp {

void streaming_probe(Transformer& model, Task& task, const nlohmann::json& params,
                     const std::string& run, int64_t step, ProbeResult& out);
void active_dormant_probe(Transformer& model, Task& task, const nlohmann::json& params,
                          const std::string& run, int64_t step, ProbeResult& out);
void retrieval_ablation_probe(Transformer& model, Task& task, const nlohmann::json& params,
                              const std::string& run, int64_t step, bool final_tables,
                              ProbeResult& out);

void induction_ablation_probe(Transformer& model, Task& task, const nlohmann::json& params,
                              const std::string& run, int64_t step, ProbeResult& out);

void sparsity_sweep_probe(Transformer& model, Task& task, const nlohmann::json& params,
                          const std::string& run, int64_t step, bool final_tables, ProbeResult& out);
void sparse_eval_probe(Transformer& model, Task& task, const nlohmann::json& params,
                       const std::string& run, int64_t step, ProbeResult& out);
void hybrid_kv_probe(Transformer& model, Task& task, const nlohmann::json& params,
                     const std::string& run, int64_t step, ProbeResult& out);

}  // namespace attnlab::exp
