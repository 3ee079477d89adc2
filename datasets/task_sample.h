#pragma once
// A task sample as a person reads it (`attnlab sample`, the GUI's task view): the decoded
// sequence with the positions the task scores marked as [[token -> target]], and its metadata.
#include <string>

#include "datasets/task.h"

namespace attnlab {

// Renders row `row` of `batch`, which `task` produced with its last next(). Marks the query
// positions (else trigger positions, else the loss-masked positions when not every position
// is trained on).
std::string render_sample(const Task& task, const Batch& batch, int row);

}  // namespace attnlab
