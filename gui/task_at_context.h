#pragma once
// A task drawn at a model's context: the GUI's task samples and dashboard scans use sequences as
// long as the model reads, not the task's default length cut to fit.
#include <memory>
#include <string>

#include "datasets/task.h"

namespace attnlab::gui {

// `spec` with its len set to `context` (or one less, for tasks whose len must be odd or even)
// unless the spec sets len; a task without len, or context <= 0, is made as the spec says.
// Throws attnlab::Error for a bad spec.
std::unique_ptr<Task> make_task_at_context(const std::string& spec, int context);

}  // namespace attnlab::gui
