#pragma once
// What a model trained on a task needs to be read back by people and tools: the task spec and
// the text of every token id, stored in the checkpoint metadata ("attnlab.task",
// "attnlab.vocab" = JSON list of strings, left out for continuous tasks, which have no tokens).
// core/tokenizer builds a tokenizer from it.
#include <map>
#include <string>

#include "datasets/task.h"

namespace attnlab {

std::map<std::string, std::string> training_vocab_metadata(const Task& task);

struct ModelConfig;
// A model trained on a task whose sequences start with BOS records that BOS and the "prepend"
// policy (unless its config already names a BOS), so probes and generation start as training did.
void adopt_task_bos(ModelConfig& cfg, const Task& task);

}  // namespace attnlab
