#pragma once
// Expands a study spec into concrete runs. Each run's config is fully resolved (the model's
// every field, the task, training, probes, the seed), validated (the attention spec of every
// layer is built once, the task is made once), and named by a hash of that resolved config, so
// the same run gets the same id in every plan, on every machine.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/spec/spec.h"

namespace attnlab::exp {

struct RunPlan {
  std::string id;         // 12 hex digits of the resolved config's hash
  nlohmann::json config;  // {model, task, train, probes, seed}
  nlohmann::json axes;    // {path: value} for the swept fields (plus "seed")
  uint64_t seed = 0;
  std::string label() const;  // "model.attention=softmax seed=0"
};

// Throws attnlab::Error naming the spec line of the value that makes a run invalid.
std::vector<RunPlan> plan_runs(const StudySpec& spec);

// The stable id of a resolved config.
std::string run_id_of(const nlohmann::json& resolved_config);

// Reads a dotted path ("model.attention") out of a resolved config; null when absent.
nlohmann::json config_value(const nlohmann::json& config, const std::string& path);
// Its value as the short text used in labels, filters and CSV.
std::string value_text(const nlohmann::json& v);

}  // namespace attnlab::exp
