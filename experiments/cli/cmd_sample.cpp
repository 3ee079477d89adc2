// attnlab sample TASK: prints one decoded sequence of a task with the scored positions marked,
// so a person can see what a model is trained on.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/tensor/error.h"
#include "datasets/task_registry.h"
#include "datasets/task_sample.h"
#include "experiments/cli/cli_options.h"

namespace attnlab::cli {

int cmd_sample(const Args& args) {
  po::options_description desc("sample options");
  std::string spec;
  std::vector<std::string> params;
  uint64_t seed = 0;
  int64_t batch_index = 0;
  int rows = 1;
  desc.add_options()
      ("task", po::value(&spec)->required(), "task name or spec, e.g. mqar or \"mqar(kv=8)\"")
      ("param,p", po::value(&params)->composing(), "parameter key=value (repeatable)")
      ("seed", po::value(&seed)->default_value(0), "random seed")
      ("batch-index", po::value(&batch_index)->default_value(0), "which batch of the stream")
      ("rows", po::value(&rows)->default_value(1), "sequences to print");
  po::positional_options_description pos;
  pos.add("task", 1);
  po::variables_map vm;
  if (!parse_options(args, "attnlab sample TASK [--param k=v]... [--seed N]", desc, vm, &pos))
    return 0;

  std::map<std::string, std::string> overrides{{"seed", std::to_string(seed)}};
  for (const std::string& kv : params) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error("--param '" + kv + "' is not key=value");
    overrides[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (rows < 1) throw Error("--rows must be >= 1");
  if (batch_index < 0) throw Error("--batch-index must be >= 0");
  std::unique_ptr<Task> task = make_task(spec, overrides);
  task->seek(batch_index);
  Batch batch;
  task->next(batch);
  std::printf("%s\n", task->describe().c_str());
  for (int r = 0; r < rows && r < batch.B; ++r) {
    std::printf("\n--- sequence %d of batch %lld ---\n", r, (long long)batch_index);
    std::printf("%s", render_sample(*task, batch, r).c_str());
  }
  return 0;
}

}  // namespace attnlab::cli
