#pragma once
// The layer x head table the head grid colours: one value per head for each metric,
// computed by streaming every head's rows once over the captured prompt.
#include <atomic>
#include <string>
#include <vector>

#include "gui/attention_capture.h"

namespace attnlab::gui {

struct MetricInfo {
  std::string name;    // shown in the metric chooser
  std::string help;    // tooltip: definition and source
  double lo = 0, hi = 1;  // natural colour range
};

struct MetricGrid {
  int n_layers = 0, n_heads = 0;
  std::vector<MetricInfo> metrics;
  std::vector<std::vector<double>> values;  // [metric][layer * n_heads + head]
  // The same metric for uniform attention over each layer's visible keys on the same prompt (NaN
  // where a metric has no chance level): shown as "observed / chance".
  std::vector<std::vector<double>> chance;  // [metric][layer]
  double at(int metric, int layer, int head) const { return values[metric][layer * n_heads + head]; }
  double chance_at(int metric, int layer) const { return chance[metric][layer]; }
  int index_of(const std::string& name) const;  // -1 when absent
};

// Every head of `run`; `cancel` is polled per head, `progress` gets the fraction done.
MetricGrid compute_metric_grid(const CapturedForward& run, const std::atomic<bool>* cancel = nullptr,
                               const std::function<void(double)>& progress = {});

}  // namespace attnlab::gui
