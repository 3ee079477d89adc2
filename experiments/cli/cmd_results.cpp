// attnlab results STORE: the runs of a study (status, progress, the fields that vary, final
// losses), their final metric values, and CSV export of any metric's series.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "core/io/atomic_write.h"
#include "core/tensor/error.h"
#include "experiments/cli/cli_options.h"
#include "experiments/store/export.h"
#include "experiments/store/query.h"
#include "experiments/store/store.h"

namespace attnlab::cli {

using namespace attnlab::exp;

int cmd_results(const Args& args) {
  po::options_description desc("results options");
  std::string store_path, csv;
  std::vector<std::string> filters, metrics;
  desc.add_options()("store", po::value(&store_path)->required(), "the study's .sqlite store")(
      "filter", po::value(&filters)->composing(), "key=value on a config field (repeatable), e.g. model.attention=softmax")(
      "metric", po::value(&metrics)->composing(), "a scalar or per-head metric (repeatable)")(
      "final", "CSV: only each run's last step")("csv", po::value(&csv), "write the metrics' series as long-format CSV");
  po::positional_options_description pos;
  pos.add("store", 1);
  po::variables_map vm;
  if (!parse_options(args, "attnlab results STORE [--filter key=value] [--metric name] [--csv out.csv]", desc, vm, &pos))
    return 0;
  Store store(store_path, /*readonly=*/true);
  std::vector<Filter> fs;
  for (const auto& f : filters) fs.push_back(parse_filter(f));
  std::vector<RunRecord> runs = select_runs(store, fs);
  check_metrics(store, metrics);
  std::vector<std::string> shown = metrics;
  if (shown.empty())
    for (const char* m : {"loss", "eval_loss"}) shown.push_back(m);
  std::vector<std::string> fields = varying_fields(runs);

  std::printf("%-12s  %-11s  %11s", "run", "status", "step");
  for (const auto& f : fields) std::printf("  %-16s", f.c_str());
  for (const auto& m : shown) std::printf("  %12s", m.c_str());
  std::printf("\n");
  for (const RunRecord& r : runs) {
    std::string step = std::to_string(r.status == "done" ? r.total_steps : r.step) + "/" + std::to_string(r.total_steps);
    std::printf("%-12s  %-11s  %11s", r.id.c_str(), r.status.c_str(), step.c_str());
    for (const auto& f : fields) std::printf("  %-16s", field_value(r, f).c_str());
    for (const auto& m : shown) {
      double v = final_value(store, r.id, m);
      if (std::isnan(v))
        std::printf("  %12s", "-");
      else
        std::printf("  %12.5g", v);
    }
    std::printf("\n");
  }
  std::printf("%zu run(s)\n", runs.size());
  for (const RunRecord& r : runs)
    if (r.status == "failed" && !r.error.empty()) std::printf("run %s failed: %s\n", r.id.c_str(), r.error.c_str());
  if (!csv.empty()) {
    if (metrics.empty()) throw Error("--csv needs at least one --metric");
    std::string text = results_csv(store, runs, metrics, vm.count("final") > 0);
    write_file_atomic(csv, [&](std::ostream& o) { o << text; });
    std::printf("wrote %s\n", csv.c_str());
  }
  return 0;
}

}  // namespace attnlab::cli
