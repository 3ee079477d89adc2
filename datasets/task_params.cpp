#include "datasets/task_params.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "core/tensor/error.h"

namespace attnlab {

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

void parse_task_spec(const std::string& spec_in, std::string& name,
                     std::map<std::string, std::string>& params) {
  std::string spec = trim(spec_in);
  params.clear();
  size_t open = spec.find('(');
  if (open == std::string::npos) {
    if (spec.find_first_of("),=") != std::string::npos)
      throw Error("task spec '" + spec_in + "': expected name(key=value,...)");
    name = spec;
  } else {
    if (spec.back() != ')')
      throw Error("task spec '" + spec_in + "': missing closing ')'");
    name = trim(spec.substr(0, open));
    std::string body = spec.substr(open + 1, spec.size() - open - 2);
    size_t pos = 0;
    while (pos <= body.size() && !trim(body).empty()) {
      size_t comma = body.find(',', pos);
      std::string item = trim(body.substr(pos, comma == std::string::npos ? std::string::npos
                                                                          : comma - pos));
      size_t eq = item.find('=');
      if (eq == std::string::npos || trim(item.substr(0, eq)).empty())
        throw Error("task spec '" + spec_in + "': parameter '" + item +
                    "' is not key=value");
      std::string key = trim(item.substr(0, eq));
      if (params.count(key)) throw Error("task spec '" + spec_in + "': '" + key + "' given twice");
      params[key] = trim(item.substr(eq + 1));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  if (name.empty()) throw Error("task spec '" + spec_in + "': empty task name");
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
