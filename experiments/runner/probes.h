#pragma once
// What a run measures besides its loss: probes (from analysis/) scheduled every N steps, task
// metrics on a fixed evaluation batch, and the final attention maps kept for figures.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/head_table.h"
#include "core/model/transformer.h"
#include "datasets/task.h"
#include "experiments/store/store.h"

namespace attnlab::exp {

struct ProbeResult {
  std::vector<HeadRow> heads;
  std::vector<ScalarRow> scalars;
  std::vector<std::pair<std::string, std::string>> tables;  // (probe, HeadTable JSON), final only
};

// Runs the probes named in probes_cfg["names"] on `model`. `task` supplies data for probes
// that use the training task; it is re-seeked, so pass a task the trainer does not read.
ProbeResult run_probes(Transformer& model, Task& task, const nlohmann::json& probes_cfg,
                       const std::string& run, int64_t step, bool final_tables);

// Runs the analysis engine (analysis/analyzer.h) over the first `rows` (params, default 4) rows
// of the task's fixed probe batch: every metric is computed once, there, whatever probe asks.
HeadTable analyse_probe_batch(Transformer& model, Task& task, const nlohmann::json& params,
                              const std::string& probe);

// Task metrics (accuracy, ...) of the model on batch 0 of `task`, as scalars "task/<name>".
std::vector<ScalarRow> score_task(Transformer& model, Task& task, const std::string& run, int64_t step);

// Every head's attention matrix on the first `len` tokens of batch 0 of `task`.
std::vector<AttentionMap> capture_attention_maps(Transformer& model, Task& task, int len,
                                                 const std::string& run, int64_t step);

}  // namespace attnlab::exp
