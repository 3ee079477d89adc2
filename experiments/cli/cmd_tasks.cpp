// attnlab tasks: every synthetic task and corpus with its parameters and defaults.
#include <cstdio>

#include "datasets/task_registry.h"
#include "experiments/cli/cli_options.h"

namespace attnlab::cli {

int cmd_tasks(const Args& args) {
  po::options_description desc("tasks options");
  po::variables_map vm;
  if (!parse_options(args, "attnlab tasks", desc, vm)) return 0;
  for (const TaskInfo& t : task_catalog()) {
    std::printf("%s\n  %s\n", t.name.c_str(), t.summary.c_str());
    for (const TaskParamInfo& p : t.params) {
      const std::string def = p.name + "=" + p.default_value;
      std::printf("    %-28s %s\n", def.c_str(), p.help.c_str());
    }
    std::printf("\n");
  }
  std::printf("Use a task as a spec, e.g. --task \"mqar(vocab=256,len=64,kv=4)\"; "
              "see one with `attnlab sample TASK`.\n");
  return 0;
}

}  // namespace attnlab::cli
