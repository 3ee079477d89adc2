#include "gui/task_at_context.h"

#include "core/tensor/error.h"
#include "datasets/task_registry.h"

namespace attnlab::gui {

std::unique_ptr<Task> make_task_at_context(const std::string& spec, int context) {
  if (context <= 0 || spec.find("len=") != std::string::npos) return make_task(spec);
  const std::string name = spec.substr(0, spec.find('('));
  for (const TaskInfo& info : task_catalog()) {
    if (info.name != name) continue;
    for (const TaskParamInfo& p : info.params) {
      if (p.name != "len") continue;
      for (int len : {context, context - 1}) {
        try {
          return make_task(spec, {{"len", std::to_string(len)}});
        } catch (const Error&) {  // a len this task cannot take: try the next, else its default
        }
      }
    }
  }
  return make_task(spec);
}

}  // namespace attnlab::gui
