// Task spec strings (datasets/task_params.*, task_registry.*): parsing and building the task.
// Only construction: a task's batches are as large as its spec asks (batch x len), which is the
// caller's choice rather than a malformed input.
#include "datasets/task_params.h"
#include "datasets/task_registry.h"
#include "fuzz/feeds.h"
#include "fuzz/fuzz_support.h"

void attnlab::fuzz::feed_task_spec(const uint8_t* data, size_t size) {
  const std::string text = as_string(data, size);
  std::string name;
  std::map<std::string, std::string> params;
  parse_task_spec(text, name, params);
  make_task(text);
}

ATTNLAB_FUZZ_ENTRY(feed_task_spec)
