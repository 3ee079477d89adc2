#pragma once
// Task spec strings, "mqar(len=64,kv=4,vocab=128)", and typed access to their parameters.
// Every task declares its parameters with defaults in one table; that table feeds both
// parsing (unknown names are errors that list the known ones) and `attnlab tasks`.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/attention/spec.h"  // format_number: numbers as specs write them

namespace attnlab {

struct TaskParamInfo {
  std::string name;
  std::string default_value;  // as it would be written in a spec; "" = none
  std::string help;
};

// "name(k=v,k2=v2)" or "name" -> name and the key/value pairs, in order. Throws on bad syntax
// or a repeated key.
void parse_task_spec(const std::string& spec, std::string& name,
                     std::map<std::string, std::string>& params);

class TaskParams {
 public:
  // Starts from the declared defaults and applies `given`; throws attnlab::Error for a name
  // not in `declared`, listing the task's parameters.
  TaskParams(const std::string& task, const std::vector<TaskParamInfo>& declared,
             const std::map<std::string, std::string>& given);

  const std::string& str(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  double real(const std::string& key) const;
  bool boolean(const std::string& key) const;
  uint64_t seed(const std::string& key) const;
  // The canonical spec with every parameter, e.g. "mqar(batch=64,kv=4,...)".
  std::string spec() const;
  const std::string& task() const { return task_; }

  // Throws attnlab::Error "<task>: <message>" (for range checks in the task constructors).
  [[noreturn]] void fail(const std::string& message) const;

 private:
  std::string task_;
  std::vector<std::string> order_;
  std::map<std::string, std::string> values_;
};

}  // namespace attnlab
