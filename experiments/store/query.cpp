#include "experiments/store/query.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/tensor/error.h"
#include "experiments/spec/plan.h"

namespace attnlab::exp {

namespace {

void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object() && !j.empty()) {
    for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    return;
  }
  out[prefix] = value_text(j);
}

}  // namespace

std::map<std::string, std::string> run_fields(const RunRecord& r) {
  std::map<std::string, std::string> f;
  flatten(r.config, "", f);
  f["id"] = r.id;
  f["status"] = r.status;
  f["study"] = r.study;
  return f;
}

std::string field_value(const RunRecord& r, const std::string& key) {
  auto f = run_fields(r);
  auto it = f.find(key);
  if (it != f.end()) return it->second;
  std::vector<std::string> hits;
  for (const auto& [k, v] : f)
    if (k.size() > key.size() && k.compare(k.size() - key.size(), key.size(), key) == 0 &&
        k[k.size() - key.size() - 1] == '.')
      hits.push_back(k);
  if (hits.size() == 1) return f[hits[0]];
  if (hits.empty()) throw Error("no config field '" + key + "' (e.g. model.attention, train.lr, task.name, seed)");
  std::string list;
  for (const auto& h : hits) list += (list.empty() ? "" : ", ") + h;
  throw Error("field '" + key + "' is ambiguous: " + list);
}

std::vector<std::string> varying_fields(const std::vector<RunRecord>& runs) {
  std::map<std::string, std::set<std::string>> values;
  for (const RunRecord& r : runs)
    for (const auto& [k, v] : run_fields(r)) values[k].insert(v);
  std::vector<std::string> out;
  for (const auto& [k, vs] : values)
    if (vs.size() > 1 && k != "id" && k != "status" && k != "seed" && k != "task.params.seed") out.push_back(k);
  if (values.count("seed") && values["seed"].size() > 1) out.push_back("seed");
  return out;
}

Filter parse_filter(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) throw Error("filter '" + text + "' must be key=value (e.g. model.attention=softmax)");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::vector<RunRecord> select_runs(Store& store, const std::vector<Filter>& filters) {
  std::vector<RunRecord> out;
  for (RunRecord& r : store.runs()) {
    bool ok = true;
    for (const Filter& f : filters) ok = ok && field_value(r, f.key) == f.value;
    if (ok) out.push_back(std::move(r));
  }
  return out;
}

Stat stat_of(const std::vector<double>& v) {
  Stat s;
  s.n = int(v.size());
  if (v.empty()) return s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= v.size();
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / (v.size() - 1));
  }
  return s;
}

}  // namespace attnlab::exp
