#pragma once
// The one exception type attnlab throws for bad input. Every message names
// what was wrong and, where it helps, what would have been accepted.
#include <stdexcept>
#include <string>

namespace attnlab {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace attnlab
