#pragma once
// Every task by name: `make_task("mqar(len=64,kv=4)")` builds one, `task_catalog()` lists
// them with their parameters (for `attnlab tasks` and the GUI).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "datasets/task.h"
#include "datasets/task_params.h"

namespace attnlab {

struct TaskInfo {
  std::string name;
  std::string summary;  // one line, with the source it follows
  std::vector<TaskParamInfo> params;
  std::function<std::unique_ptr<Task>(const TaskParams&)> make;
};

const std::vector<TaskInfo>& task_catalog();

// Throws attnlab::Error for an unknown task (listing the tasks) or parameter (listing the
// task's parameters), and for impossible parameter values (naming the constraint).
std::unique_ptr<Task> make_task(const std::string& spec);
// `spec` (or a bare name) with `overrides` applied on top: the trainer's batch size, the CLI's
// --seed and --param k=v.
std::unique_ptr<Task> make_task(const std::string& spec,
                                const std::map<std::string, std::string>& overrides);
// `task` remade with every row one length, for evaluations that read the answer's position from
// the batch: `len` tokens when > 0 (else the task's own), a needle's len_min dropped. Null when
// that is the task as it is.
std::unique_ptr<Task> fixed_length_task(const Task& task, int len = 0);

}  // namespace attnlab
