#pragma once
// Attention spec strings: "name(key=value,...)" optionally followed by mask modifiers joined
// with '+', e.g. "softpick+window(size=64,sinks=4)". Values are ints, floats, bools
// (true/false) or bare words; a few parameters accept expressions such as "-log_n".
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attnlab {

struct SpecTerm {
  std::string name;
  std::vector<std::pair<std::string, std::string>> args;  // in the order written
};

// Splits "a(x=1)+b(y=2)" into terms. Throws attnlab::Error on malformed syntax, naming `what`
// ("attention spec", "task spec"). The one parser of the name(key=value,...) grammar: task specs
// use it too, with allow_empty_values (a task's "corpus=" means "none").
std::vector<SpecTerm> parse_spec(const std::string& spec, const std::string& what = "attention spec",
                                 bool allow_empty_values = false);

// Formats a number so that it reads back to the same double and stays short ("0.8", "64", "-2.5").
std::string format_number(double v);
// `s` read whole as an int (std::stoi's syntax, nothing left over), or nullopt.
std::optional<int> parse_whole_number(const std::string& s);

// Typed access to one term's arguments. Each getter marks its key as a known parameter of the
// variant; finish() then rejects any argument nobody asked for, listing the known ones.
class SpecArgs {
 public:
  SpecArgs(std::string what, std::vector<std::pair<std::string, std::string>> args);

  bool has(const std::string& key);
  int get_int(const std::string& key, int def, int min_value, int max_value);
  int require_int(const std::string& key, int min_value, int max_value);
  double get_float(const std::string& key, double def);
  bool get_bool(const std::string& key, bool def);
  std::string get_choice(const std::string& key, const std::string& def,
                         const std::vector<std::string>& choices);
  // The raw text, for parameters with their own little grammar (sigmoid's bias).
  std::string get_raw(const std::string& key, const std::string& def);

  // Throws attnlab::Error if an argument was not read by any getter.
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& why) const;

 private:
  const std::string* find(const std::string& key);
  std::string what_;
  std::vector<std::pair<std::string, std::string>> args_;
  std::vector<std::string> known_;
};

}  // namespace attnlab
