#include "experiments/training_vocab.h"

#include <nlohmann/json.hpp>

namespace attnlab {

std::map<std::string, std::string> training_vocab_metadata(const Task& task) {
  nlohmann::json vocab = nlohmann::json::array();
  for (int i = 0; i < task.vocab_size(); ++i) vocab.push_back(task.token_text(i));
  return {{"attnlab.task", task.describe()}, {"attnlab.vocab", vocab.dump()}};
}

}  // namespace attnlab
