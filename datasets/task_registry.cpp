#include "datasets/task_registry.h"

#include "core/tensor/error.h"
#include "datasets/bigram_backcopy.h"
#include "datasets/copy_task.h"
#include "datasets/induction.h"
#include "datasets/linear_regression.h"
#include "datasets/mqar.h"
#include "datasets/needle.h"
#include "datasets/selective_copy.h"
#include "datasets/text_task.h"

namespace attnlab {

const std::vector<TaskInfo>& task_catalog() {
  static const std::vector<TaskInfo> catalog = {
      BigramBackcopyTask::info(), MqarTask::info(),          InductionTask::info(),
      NeedleTask::info(),         SelectiveCopyTask::info(), CopyTask::info(),
      LinearRegressionTask::info(), TextTask::info(),
  };
  return catalog;
}

namespace {

std::unique_ptr<Task> make_named_task(const std::string& name,
                                      const std::map<std::string, std::string>& params) {
  for (const TaskInfo& info : task_catalog())
    if (info.name == name) return info.make(TaskParams(name, info.params, params));
  std::string known;
  for (const TaskInfo& info : task_catalog()) known += (known.empty() ? "" : ", ") + info.name;
  throw Error("unknown task '" + name + "' (tasks: " + known + ")");
}

}  // namespace

std::unique_ptr<Task> make_task(const std::string& spec,
                                const std::map<std::string, std::string>& overrides) {
  std::string name;
  std::map<std::string, std::string> params;
  parse_task_spec(spec, name, params);
  for (const auto& [k, v] : overrides) params[k] = v;
  return make_named_task(name, params);
}

std::unique_ptr<Task> make_task(const std::string& spec) { return make_task(spec, {}); }

std::unique_ptr<Task> fixed_length_task(const Task& task, int len) {
  std::map<std::string, std::string> at;
  if (len > 0 && len != task.seq_len()) at["len"] = std::to_string(len);
  if (task.name() == "needle" && task.describe().find(",len_min=") != std::string::npos)
    at["len_min"] = "0";
  if (at.empty()) return nullptr;
  return make_task(task.describe(), at);
}

}  // namespace attnlab
