#include "datasets/task_params.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "core/tensor/error.h"

namespace attnlab {

void parse_task_spec(const std::string& spec, std::string& name,
                     std::map<std::string, std::string>& params) {
  std::vector<SpecTerm> terms = parse_spec(spec, "task spec", true);
  if (terms.size() != 1)
    throw Error("task spec '" + spec + "': expected one task, got " + std::to_string(terms.size()) +
                " terms joined by '+'");
  name = terms[0].name;
  params.clear();
  for (auto& [key, value] : terms[0].args) params[key] = value;
}

TaskParams::TaskParams(const std::string& task, const std::vector<TaskParamInfo>& declared,
                       const std::map<std::string, std::string>& given)
    : task_(task) {
  for (const TaskParamInfo& p : declared) {
    order_.push_back(p.name);
    values_[p.name] = p.default_value;
  }
  for (const auto& [k, v] : given) {
    if (!values_.count(k)) {
      std::string known;
      for (const std::string& n : order_) known += (known.empty() ? "" : ", ") + n;
      throw Error("task '" + task + "' has no parameter '" + k + "' (it has: " + known + ")");
    }
    values_[k] = v;
  }
}

const std::string& TaskParams::str(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw Error("task '" + task_ + "': internal: undeclared parameter " + key);
  return it->second;
}

int64_t TaskParams::integer(const std::string& key) const {
  const std::string& v = str(key);
  errno = 0;
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0)
    fail("parameter " + key + "='" + v + "' is not an integer");
  return x;
}

double TaskParams::real(const std::string& key) const {
  const std::string& v = str(key);
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') fail("parameter " + key + "='" + v + "' is not a number");
  return x;
}

bool TaskParams::boolean(const std::string& key) const {
  const std::string& v = str(key);
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  fail("parameter " + key + "='" + v + "' is not a boolean (true/false)");
}

uint64_t TaskParams::seed(const std::string& key) const {
  int64_t s = integer(key);
  if (s < 0) fail("parameter " + key + " must be >= 0");
  return uint64_t(s);
}

std::string TaskParams::spec() const {
  std::string s = task_ + "(";
  for (size_t i = 0; i < order_.size(); ++i)
    s += (i ? "," : "") + order_[i] + "=" + values_.at(order_[i]);
  return s + ")";
}

void TaskParams::fail(const std::string& message) const { throw Error(task_ + ": " + message); }

}  // namespace attnlab
