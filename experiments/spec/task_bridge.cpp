#include "experiments/spec/task_bridge.h"

#include "core/tensor/error.h"
#include "datasets/task_registry.h"
#include "experiments/spec/plan.h"

namespace attnlab::exp {

std::unique_ptr<Task> make_study_task(const nlohmann::json& task, uint64_t seed, int batch_size, int seq_len,
                                      bool held_out) {
  if (!task.contains("name") || !task["name"].is_string()) throw Error("task.name is missing");
  std::map<std::string, std::string> params;
  if (task.contains("params"))
    for (auto it = task["params"].begin(); it != task["params"].end(); ++it) {
      if (it.key() == "batch" || it.key() == "seed")
        throw Error("task parameter '" + it.key() + "' is set by the study (use train.batch_size and seeds)");
      params[it.key()] = value_text(it.value());
    }
  params["batch"] = std::to_string(batch_size);
  params["seed"] = std::to_string(seed);
  if (seq_len > 0) params["len"] = std::to_string(seq_len);
  if (held_out && !params.count("split"))
    for (const TaskInfo& info : task_catalog())
      if (info.name == task["name"].get<std::string>())
        for (const TaskParamInfo& p : info.params)
          if (p.name == "split") params["split"] = "val";
  return make_task(task["name"].get<std::string>(), params);
}

// attn_stats: the engine's cheap per-head row statistics; analyzer: analysis/'s full HeadTable;
// streaming, active_dormant, retrieval: one published finding each (runner/research_probes.h).
std::vector<std::string> known_probes() {
  return {"attn_stats", "analyzer", "streaming", "active_dormant", "retrieval", "sparsity", "sparse_eval", "hybrid_kv", "induction_ablation"};
}

}  // namespace attnlab::exp
