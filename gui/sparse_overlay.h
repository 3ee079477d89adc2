#pragma once
// A sparse-attention pattern on the captured prompt, for the explorer (issue 16 item 5): the keys
// a pattern spec (analysis/sparse/selector.h, e.g. "topk(k=8)") keeps in each query row of one
// head, with the attention mass it keeps (recall R_t) and drops, and each head's mean recall as
// a head-grid metric. Selections are the recall engine's own (stream_selections).
#include <atomic>
#include <string>
#include <vector>

#include "gui/attention_capture.h"
#include "gui/head_metrics.h"

namespace attnlab::gui {

struct KeySelection {
  std::string label;  // the pattern's canonical name
  int layer = -1, head = -1;
  std::vector<std::vector<int>> keys;  // [t]: the kept keys of query t, ascending
  std::vector<double> recall;          // [t]: R_t, the row's attention mass on the kept keys
  double mean_recall = 0;              // over rows
  double density = 0;                  // kept keys / visible keys, over all rows
  // Mean over rows of |S_t| / n_t: what uniform attention over the visible keys keeps in each
  // row with sets of these sizes, the chance level of mean_recall.
  double uniform_recall = 0;
  double fail = 0;                     // share of rows with R_t < 0.9
};

// Throws attnlab::Error for an unknown or malformed spec, and for channel_topk (it needs a
// calibration input: `attnlab analyze --probe sparsity` measures it).
KeySelection select_keys(const CapturedForward& run, int layer, int head, const std::string& spec);

// Appends "recall: <label>" (each head's mean R_t, with KeySelection::uniform_recall as its
// chance level) to `grid`, or replaces it when present. `cancel` is polled per head.
// Returns the metric's name.
std::string add_recall_metric(MetricGrid& grid, const CapturedForward& run, const std::string& spec,
                       const std::atomic<bool>* cancel = nullptr);

// One line for the map's read-out: "topk(k=8): keeps 24 % of visible keys; recall 0.91 ...".
std::string describe_selection(const KeySelection& s);

}  // namespace attnlab::gui
