#pragma once
// The one place the experiment engine reaches into datasets/ and analysis/ registries, so the
// planner (validation) and the runner (execution) build tasks and probes the same way.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "datasets/task.h"

namespace attnlab::exp {

// Builds the task {name, params} for a run. batch_size and seq_len come from [train]
// (seq_len 0: the task's own default). Throws attnlab::Error for an unknown task or parameter.
// With `held_out`, a task that has a train/val split (text corpora) reads its validation part
// unless the spec chose a split itself; synthetic tasks differ only by seed.
std::unique_ptr<Task> make_study_task(const nlohmann::json& task, uint64_t seed, int batch_size, int seq_len,
                                      bool held_out = false);

// Names of the probes [probes].names may list.
std::vector<std::string> known_probes();

}  // namespace attnlab::exp
