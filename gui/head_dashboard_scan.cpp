#include "gui/head_dashboard_scan.h"

#include <algorithm>
#include <cmath>

#include "analysis/row_metrics.h"
#include "core/tensor/error.h"
#include "datasets/text_corpus.h"
#include "gui/attention_capture.h"
#include "gui/task_at_context.h"

namespace attnlab::gui {

const std::vector<std::string>& row_metric_names() {
  static const std::vector<std::string> names = {"sink mass A[t, 0]", "induction (prefix matching)",
                                                 "entropy (normalized)"};
  return names;
}

bool row_metric(RowMetric m, const float* row, const int32_t* tokens, int t, double& value) {
  thread_local std::vector<float> a;
  a.assign(row, row + t + 1);
  proxy_normalize(a.data(), t + 1);  // a no-op on softmax rows; |a|/sum for the others
  value = 0;
  switch (m) {
    case RowMetric::kSinkMass:  // row 0 sees only key 0: a sink mass of 1 that says nothing
      if (t < 1) return false;
      value = a[0];
      return true;
    case RowMetric::kInduction:
      return row_prefix_matching(a.data(), tokens, t, value);
    case RowMetric::kEntropy:
      if (t < 1) return false;
      value = row_entropy(a.data(), t + 1) / std::log(double(t + 1));
      return true;
  }
  return false;
}

DashboardScan scan_head(std::shared_ptr<Transformer> model, int layer, int head,
                        const WindowSource& source, int max_windows, RowMetric metric, int top_k,
                        int context, const std::atomic<bool>* cancel,
                        const std::function<void(double)>& progress, bool lowest) {
  if (!model) throw Error("dashboard: no model open");
  if (top_k < 1 || max_windows < 1)
    throw Error("dashboard: top_k and the number of windows must be >= 1");
  DashboardScan out;
  // Most extreme first; a less extreme hit than the k-th never enters.
  auto more = [lowest](double a, double b) { return lowest ? a < b : a > b; };
  auto better = [&](const DashboardHit& a, const DashboardHit& b) { return more(a.score, b.score); };
  std::vector<int32_t> tokens;
  for (int w = 0; w < max_windows && source(tokens); ++w) {
    if (cancel && cancel->load()) throw Cancelled{};
    if (tokens.empty()) continue;
    auto capture = CapturedForward::run(model, tokens, cancel);
    capture->stream_rows(layer, head, [&](int t, const float* row) {
      double v;
      if (!row_metric(metric, row, tokens.data(), t, v)) return;
      ++out.rows;
      if (int(out.hits.size()) == top_k && !more(v, out.hits.back().score)) return;
      DashboardHit h;
      h.window = w, h.t = t, h.score = v;
      h.first = std::max(0, t - context);
      h.context.assign(tokens.begin() + h.first, tokens.begin() + t + 1);
      h.weights.assign(row + h.first, row + t + 1);
      out.hits.insert(std::upper_bound(out.hits.begin(), out.hits.end(), h, better), std::move(h));
      if (int(out.hits.size()) > top_k) out.hits.pop_back();
    });
    ++out.windows;
    if (progress) progress(double(w + 1) / max_windows);
  }
  return out;
}

WindowSource text_windows(const std::string& path,
                          std::function<std::vector<int32_t>(const std::string&)> encode,
                          int window, int bos) {
  if (window < 2) throw Error("dashboard: windows need at least 2 tokens");
  auto text = std::make_shared<std::string>(read_text_file(path));
  auto pos = std::make_shared<size_t>(0);
  return [text, pos, encode, window, bos](std::vector<int32_t>& tokens) {
    // About 8 bytes per token covers every tokenizer here; the slice is cut at a space.
    const size_t want = size_t(window) * 8;
    while (*pos < text->size()) {
      size_t end = std::min(text->size(), *pos + want);
      const size_t space = text->rfind(' ', end);
      if (end < text->size() && space != std::string::npos && space > *pos) end = space;
      std::vector<int32_t> ids = encode(text->substr(*pos, end - *pos));
      *pos = end;
      tokens.clear();
      if (bos >= 0) tokens.push_back(bos);
      for (int32_t id : ids) {
        if (int(tokens.size()) >= window) break;
        tokens.push_back(id);
      }
      if (tokens.size() > 1) return true;
    }
    return false;
  };
}

WindowSource task_windows(const std::string& spec, int window) {
  std::shared_ptr<Task> task = make_task_at_context(spec, window);
  auto batch = std::make_shared<Batch>();
  auto row = std::make_shared<int>(0);
  return [task, batch, row, window](std::vector<int32_t>& tokens) {
    if (*row >= batch->B) {
      task->next(*batch);
      *row = 0;
    }
    const auto begin = batch->tokens.begin() + int64_t(*row) * batch->T;
    tokens.assign(begin, begin + std::min(batch->T, window));
    ++*row;
    return true;
  };
}

}  // namespace attnlab::gui
