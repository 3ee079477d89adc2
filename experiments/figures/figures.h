#pragma once
// The study figures, drawn from a results store: the data behind each (also written as CSV
// next to the figure) is computed here without Qt, then drawn with QCustomPlot.
//   line       metric vs step, one line per group (a config field), band = spread over seeds
//   heatmap    layer x head of a per-head metric at one step (mean over the selected runs)
//   attention  one head's attention map of one run
//   bar        final value per group, error bars = spread over seeds
#include <string>
#include <vector>

#include "experiments/store/query.h"
#include "experiments/store/store.h"

namespace attnlab::fig {

struct FigureRequest {
  std::string kind = "line";          // line | heatmap | attention | bar
  std::string metric = "loss";        // scalar or per-head metric
  std::string group_by;               // config field; empty: the first varying field
  std::vector<exp::Filter> filters;
  std::string run;                    // attention: which run (default: the first selected)
  int layer = -1, head = -1;          // per-head metrics in line/bar: one head (default: reduce)
  std::string reduce = "mean";        // per-head metrics over heads: mean | max
  int64_t step = -1;                  // heatmap/attention: which step (default: the last)
  std::string band = "ci95";          // line/bar spread over seeds: ci95 (t-interval) | sd | minmax | none
  std::string colormap;               // default viridis (heatmap), magma (attention)
  std::string title;
  std::string output;                 // path; its extension picks the format
  std::vector<std::string> formats;   // extra formats to write beside it (pdf, svg, png)
  bool log_y = false;
};

// Table behind a figure: a header and rows of text cells.
struct FigureData {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string to_csv() const;
};

FigureData figure_data(exp::Store& store, const FigureRequest& req);

// Draws the figure and writes it in every requested format plus <output stem>.csv. Returns the
// files written.
std::vector<std::string> make_figure(exp::Store& store, const FigureRequest& req);

}  // namespace attnlab::fig
