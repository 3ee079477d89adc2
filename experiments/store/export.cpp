#include "experiments/store/export.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/tensor/error.h"

namespace attnlab::exp {

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

void check_metrics(Store& store, const std::vector<std::string>& metrics) {
  std::vector<std::string> scal = store.scalar_names(), heads = store.head_metric_names();
  for (const std::string& m : metrics)
    if (!contains(scal, m) && !contains(heads, m)) {
      std::string list;
      for (const auto& s : scal) list += (list.empty() ? "" : ", ") + s;
      for (const auto& s : heads) list += (list.empty() ? "" : ", ") + s + " (per head)";
      throw Error("no metric '" + m + "' in " + store.path() + " (metrics: " + (list.empty() ? "none yet" : list) + ")");
    }
}

double final_value(Store& store, const std::string& run, const std::string& metric) {
  auto rows = store.scalars(run, metric);
  if (!rows.empty()) return rows.back().value;
  auto heads = store.head_metrics(run, metric);
  if (heads.empty()) return NAN;
  int64_t last = heads.back().step;
  double s = 0;
  int n = 0;
  for (const HeadRow& h : heads)
    if (h.step == last) s += h.value, ++n;
  return s / n;
}

std::string results_csv(Store& store, const std::vector<RunRecord>& runs, const std::vector<std::string>& metrics,
                        bool final_only) {
  check_metrics(store, metrics);
  std::vector<std::string> fields = varying_fields(runs);
  std::ostringstream out;
  out << "run";
  for (const auto& f : fields) out << "," << csv_escape(f);
  out << ",metric,step,layer,head,value\n";
  for (const RunRecord& r : runs) {
    std::string prefix = r.id;
    for (const auto& f : fields) prefix += "," + csv_escape(field_value(r, f));
    for (const std::string& m : metrics) {
      auto rows = store.scalars(r.id, m);
      if (final_only && !rows.empty()) rows.erase(rows.begin(), rows.end() - 1);
      for (const ScalarRow& s : rows) out << prefix << "," << csv_escape(m) << "," << s.step << ",,," << num(s.value) << "\n";
      auto heads = store.head_metrics(r.id, m);
      int64_t last = heads.empty() ? 0 : heads.back().step;
      for (const HeadRow& h : heads) {
        if (final_only && h.step != last) continue;
        out << prefix << "," << csv_escape(m) << "," << h.step << "," << h.layer << "," << h.head << "," << num(h.value) << "\n";
      }
    }
  }
  return out.str();
}

}  // namespace attnlab::exp
