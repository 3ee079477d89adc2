#pragma once
// The scan behind a head's dashboard: stream windows of a corpus or a task through the model,
// score every query row of one head by a metric, and keep the most extreme rows with their
// context. Streaming: one window's capture at a time, top-k kept in a bounded heap.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/model/transformer.h"

namespace attnlab::gui {

enum class RowMetric { kSinkMass = 0, kInduction = 1, kEntropy = 2 };
const std::vector<std::string>& row_metric_names();  // in RowMetric order, for the chooser

// The metric of query row t of one head (keys 0..t, as the variant hands them), on the
// proxy-normalized row (analysis/row_metrics.h): sink mass A[t, 0]; prefix matching (induction);
// normalized entropy Ent / log(t + 1). False when the row has none (no earlier repeat of the
// query's token for induction; t = 0, a single key, for sink mass and entropy).
bool row_metric(RowMetric m, const float* row, const int32_t* tokens, int t, double& value);

struct DashboardHit {
  int window = 0, t = 0;  // which window, which query row
  double score = 0;
  int first = 0;                 // position of context[0] in the window
  std::vector<int32_t> context;  // tokens first..t (the query is the last)
  std::vector<float> weights;    // the row's weights on those keys
};

struct DashboardScan {
  std::vector<DashboardHit> hits;  // most extreme first
  int windows = 0;
  int64_t rows = 0;  // rows scored
};

// Yields the next window's tokens; false when the source is exhausted.
using WindowSource = std::function<bool(std::vector<int32_t>& tokens)>;

// Scans up to `max_windows` windows. `context` tokens of each hit are kept before its query.
// The top_k rows by the metric, largest first, or with `lowest` the smallest first (the most
// focused rows by entropy, the rows that ignore the sink).
// Polls `cancel` per window (throws Cancelled); `progress` gets the fraction of windows done.
DashboardScan scan_head(std::shared_ptr<Transformer> model, int layer, int head,
                        const WindowSource& source, int max_windows, RowMetric metric, int top_k,
                        int context, const std::atomic<bool>* cancel = nullptr,
                        const std::function<void(double)>& progress = {}, bool lowest = false);

// Windows of `window` tokens (BOS first when bos >= 0) of a text file encoded by `encode`, read
// in slices so the file is never tokenized whole. Throws attnlab::Error for a missing file.
WindowSource text_windows(const std::string& path,
                          std::function<std::vector<int32_t>(const std::string&)> encode,
                          int window, int bos);
// Sequences of a task (every row of each batch), drawn at `window` tokens where the task has a len.
WindowSource task_windows(const std::string& spec, int window);

}  // namespace attnlab::gui
