#pragma once
// Selecting runs by their config: flattened dotted paths ("model.attention", "train.lr"),
// short names that end a path ("attention"), and the fields that vary across a study.
#include <map>
#include <string>
#include <vector>

#include "experiments/store/store.h"

namespace attnlab::exp {

// "model.d_model" -> "64", plus id, status, seed, study.
std::map<std::string, std::string> run_fields(const RunRecord& r);
// The value of `key` for a run: an exact path, or the unique path ending in ".key".
// Throws naming the candidates when the key is unknown or ambiguous.
std::string field_value(const RunRecord& r, const std::string& key);
// Fields whose value differs between runs (the study's axes), seed last.
std::vector<std::string> varying_fields(const std::vector<RunRecord>& runs);

struct Filter {
  std::string key, value;
};
Filter parse_filter(const std::string& text);  // "key=value"
std::vector<RunRecord> select_runs(Store& store, const std::vector<Filter>& filters);

// Mean, and the spread across seeds as a sample standard deviation (0 for one value).
struct Stat {
  double mean = 0, sd = 0, min = 0, max = 0;
  int n = 0;
};
Stat stat_of(const std::vector<double>& v);

}  // namespace attnlab::exp
