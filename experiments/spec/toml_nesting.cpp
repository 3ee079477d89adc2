#include "experiments/spec/toml_nesting.h"

#include <cctype>
#include <numeric>
#include <vector>

#include "core/tensor/error.h"

namespace attnlab::exp {

namespace {

class NestingScanner {
 public:
  NestingScanner(const std::string& text, const std::string& file) : s_(text), file_(file) {}

  void run() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (c == '"' || c == '\'') {
        line_start_ = false;
        skip_string();  // a quoted key part keeps the chain going; a value ends at '=' anyway
      } else if (c == '.') {
        line_start_ = false;
        ++chain_dots_;
        check();
        ++i_;
      } else if (is_key_char(c) || c == ' ' || c == '\t') {
        line_start_ = line_start_ && (c == ' ' || c == '\t');
        ++i_;
      } else {
        punctuation(c);
        ++i_;
      }
    }
  }

 private:
  static bool is_key_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  }

  // Everything that ends a dotted key: '=', ',', brackets, braces, newlines.
  void punctuation(char c) {
    if (c == '[' && stack_.empty() && (line_start_ || in_header_)) {
      in_header_ = true;  // [table] or [[array of tables]]
      header_depth_ = 0;
    } else if (c == ']' && in_header_) {
      header_depth_ = chain_dots_ + 1;
      in_header_ = false;
    } else if (c == '[' || c == '{') {
      stack_.push_back(key_dots_ + 1);  // the key's parts and the container itself
      check();
      key_dots_ = 0;
    } else if ((c == ']' || c == '}') && !stack_.empty()) {
      stack_.pop_back();
    } else if (c == '=') {
      key_dots_ = chain_dots_;
    } else if (c == ',' || c == '\n') {
      key_dots_ = 0;
    }
    if (c == '\n') ++line_;
    line_start_ = c == '\n';
    chain_dots_ = 0;
  }

  void check() const {
    int depth = header_depth_ + std::accumulate(stack_.begin(), stack_.end(), 0) + chain_dots_ + 1;
    if (depth > kMaxTomlDepth)
      throw Error(file_ + ":" + std::to_string(line_) +
                  ": keys, tables and arrays nest deeper than " + std::to_string(kMaxTomlDepth) +
                  " levels");
  }

  // From an opening quote past the closing one: "basic", 'literal', """multi""", '''multi'''.
  void skip_string() {
    const char q = s_[i_];
    const bool multi = s_.compare(i_, 3, std::string(3, q)) == 0;
    i_ += multi ? 3 : 1;
    while (i_ < s_.size()) {
      if (q == '"' && s_[i_] == '\\') {
        i_ += 2;
        continue;
      }
      if (multi ? s_.compare(i_, 3, std::string(3, q)) == 0 : s_[i_] == q) {
        i_ += multi ? 3 : 1;
        return;
      }
      if (s_[i_] == '\n') {
        if (!multi) return;  // unterminated: toml++ says so
        ++line_;
      }
      ++i_;
    }
  }

  const std::string& s_;
  const std::string& file_;
  size_t i_ = 0;
  int line_ = 1;
  bool line_start_ = true, in_header_ = false;
  int chain_dots_ = 0;      // dots in the dotted key being read
  int key_dots_ = 0;        // dots in the key before the last '='
  int header_depth_ = 0;    // parts of the last [table] header
  std::vector<int> stack_;  // open arrays and inline tables, each with the depth it adds
};

}  // namespace

void check_toml_nesting(const std::string& text, const std::string& file) {
  NestingScanner(text, file).run();
}

}  // namespace attnlab::exp
