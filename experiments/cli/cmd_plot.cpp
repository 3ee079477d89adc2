// attnlab plot STORE --kind line|heatmap|attention|bar: paper figures from a results store,
// drawn headless, with the CSV behind each figure written next to it.
#include <cstdio>
#include <iostream>

#include "core/tensor/error.h"
#include "experiments/cli/cli_options.h"
#include "experiments/figures/figures.h"
#include "experiments/store/store.h"

namespace attnlab::cli {

int cmd_plot(const Args& args) {
  po::options_description desc("plot options");
  std::string store_path;
  std::vector<std::string> filters;
  fig::FigureRequest req;
  int64_t step = -1;
  desc.add_options()("store", po::value(&store_path)->required(), "the study's .sqlite store")(
      "kind", po::value(&req.kind)->default_value("line"), "line | heatmap | attention | bar")(
      "metric", po::value(&req.metric)->default_value("loss"), "scalar (loss, eval_loss, task/accuracy, ...) or per-head metric")(
      "group-by", po::value(&req.group_by), "config field giving one line/bar per value (default: the first that varies)")(
      "filter", po::value(&filters)->composing(), "key=value on a config field (repeatable)")(
      "run", po::value(&req.run), "attention: the run id (default: the first selected run)")(
      "layer", po::value(&req.layer)->default_value(-1), "per-head metrics / attention: layer")(
      "head", po::value(&req.head)->default_value(-1), "per-head metrics / attention: head")(
      "reduce", po::value(&req.reduce)->default_value("mean"), "per-head metrics over heads: mean | max")(
      "step", po::value(&step)->default_value(-1), "heatmap/attention: the step (default: last)")(
      "band", po::value(&req.band)->default_value("ci95"),
      "spread over seeds: ci95 (95 % t-interval of the mean) | sd | minmax | none")(
      "colormap", po::value(&req.colormap), "viridis | magma | RdBu")(
      "title", po::value(&req.title), "figure title")("log-y", "logarithmic y axis")(
      "out,o", po::value(&req.output)->required(), "output file (.pdf, .svg or .png)")(
      "formats", po::value(&req.formats)->multitoken(), "also write these formats (e.g. --formats svg png)");
  po::positional_options_description pos;
  pos.add("store", 1);
  po::variables_map vm;
  if (!parse_options(args, "attnlab plot STORE --kind line|heatmap|attention|bar --metric NAME -o fig.pdf", desc, vm,
                     &pos))
    return 0;
  req.step = step;
  req.log_y = vm.count("log-y") > 0;
  for (const auto& f : filters) req.filters.push_back(exp::parse_filter(f));
  exp::Store store(store_path, /*readonly=*/true);
  for (const std::string& p : fig::make_figure(store, req)) std::printf("wrote %s\n", p.c_str());
  return 0;
}

}  // namespace attnlab::cli
