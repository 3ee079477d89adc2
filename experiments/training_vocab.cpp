#include "experiments/training_vocab.h"

#include <nlohmann/json.hpp>

#include "core/model/config.h"

namespace attnlab {

std::map<std::string, std::string> training_vocab_metadata(const Task& task) {
  // Continuous tasks (in-context regression) have no tokens: no vocabulary to record.
  if (task.vocab_size() <= 0) return {{"attnlab.task", task.describe()}};
  nlohmann::json vocab = nlohmann::json::array();
  for (int i = 0; i < task.vocab_size(); ++i) vocab.push_back(task.token_text(i));
  return {{"attnlab.task", task.describe()}, {"attnlab.vocab", vocab.dump()}};
}

void adopt_task_bos(ModelConfig& cfg, const Task& task) {
  if (task.bos_token() < 0 || cfg.bos_token >= 0) return;
  cfg.bos_token = task.bos_token();
  cfg.bos_policy = "prepend";
}

}  // namespace attnlab
