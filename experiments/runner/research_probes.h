#pragma once
// Probes for single published findings, each more than one look at the probe batch (so they are
// not analyzer metrics). Each appends its rows to `out`; `params` is [probes.params].
//   streaming       StreamingLLM (R7): loss on positions t >= W with full attention, a window of
//                   W keys, and the window plus the first S keys (analysis/streaming_eval.h).
//                   params: stream_window (16), stream_sinks (4), stream_batches (2).
//   active_dormant  Guo et al. (R3) on bigram_backcopy: BOS mass of trigger vs other queries,
//                   BOS value norm and score gap per head (analysis/active_dormant.h).
//   retrieval       Wu et al. (R10) on a needle task: retrieval score per head, then the task's
//                   accuracy with the top-k heads by score ablated (uniform attention, Wu's
//                   masking) and with k random other heads ablated.
//                   params: retrieval_trials (32), ablate_k (2), ablate_draws (5).
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

}  // namespace attnlab::exp
