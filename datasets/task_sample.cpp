#include "datasets/task_sample.h"

#include <cstdio>
#include <set>

#include "core/tensor/error.h"
#include "datasets/linear_regression.h"

namespace attnlab {

namespace {

std::string visible(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out;
}

std::string span_text(const Span& s) {
  return "[" + std::to_string(s.begin) + ", " + std::to_string(s.end) + ")";
}

std::string positions_text(const std::vector<int>& v, size_t limit = 24) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < limit; ++i) out += (i ? " " : "") + std::to_string(v[i]);
  if (v.size() > limit) out += " ... (" + std::to_string(v.size()) + " in all)";
  return out;
}

std::string render_regression(const Batch& batch, int row) {
  const int T = batch.T, d = batch.in_dim;
  Tensor ols = regression_baseline(batch, RegressionBaseline::least_squares);
  std::string out = "  i  x (first dims)                          y        least-squares prediction\n";
  char line[256];
  for (int i = 0; i < T / 2; ++i) {
    const size_t tx = size_t(row) * T + 2 * i;
    std::string xs;
    for (int k = 0; k < d && k < 4; ++k) {
      char v[24];
      std::snprintf(v, sizeof v, "%s%7.3f", k ? " " : "", batch.features[tx * d + k]);
      xs += v;
    }
    if (d > 4) xs += " ...";
    std::snprintf(line, sizeof line, "%3d  %-38s %8.3f %8.3f\n", i + 1, xs.c_str(),
                  batch.float_targets[tx], ols.data[tx]);
    out += line;
  }
  return out;
}

}  // namespace

std::string render_sample(const Task& task, const Batch& batch, int row) {
  if (row < 0 || row >= batch.B)
    throw Error("sample: row " + std::to_string(row) + " is outside the batch of " +
                std::to_string(batch.B));
  if (int(task.meta().size()) != batch.B)
    throw Error("sample: the batch was not produced by this task's last next()");
  const SampleMeta& m = task.meta()[row];
  const int T = batch.T;
  std::string out;
  if (batch.in_dim > 0) return render_regression(batch, row);

  std::set<int> marked;
  std::string marked_what;
  if (!m.query_positions.empty()) {
    marked.insert(m.query_positions.begin(), m.query_positions.end());
    marked_what = "scored positions";
  } else if (!m.trigger_positions.empty()) {
    marked.insert(m.trigger_positions.begin(), m.trigger_positions.end());
    marked_what = "trigger positions";
  } else {
    bool all = true;
    for (int t = 0; t < T; ++t) all = all && batch.mask[size_t(row) * T + t] > 0;
    if (!all)
      for (int t = 0; t < T; ++t)
        if (batch.mask[size_t(row) * T + t] > 0) marked.insert(t);
    marked_what = all ? "" : "loss-masked positions";
  }
  int trained = 0;
  for (int t = 0; t < T; ++t) trained += batch.mask[size_t(row) * T + t] > 0;
  out += "length " + std::to_string(T) + ", loss on " + std::to_string(trained) + " positions";
  if (!marked_what.empty()) out += "; " + marked_what + " shown as [[token -> target]]";
  out += "\n\n";

  const bool joined = task.text_tokens();
  std::string body;
  for (int t = 0; t < T; ++t) {
    const int tok = batch.tokens[size_t(row) * T + t];
    std::string text = task.token_text(tok);
    if (marked.count(t)) {
      body += (joined || t == 0 ? "" : " ") + std::string("[[") + visible(text) + " -> " +
              visible(task.token_text(batch.targets[size_t(row) * T + t])) + "]]";
    } else {
      body += (joined || t == 0 ? "" : " ") + (joined ? text : visible(text));
    }
  }
  out += body + "\n\n";
  if (!m.context.empty()) out += "key-value context: " + span_text(m.context) + "\n";
  if (!m.query_positions.empty()) out += "query positions: " + positions_text(m.query_positions) + "\n";
  if (!m.trigger_positions.empty())
    out += "trigger positions: " + positions_text(m.trigger_positions) + "\n";
  if (!m.needle.empty())
    out += "needle: " + span_text(m.needle) + ", value " + span_text(m.needle_value) +
           ", depth " + std::to_string(m.depth).substr(0, 5) + "\n";
  return out;
}

}  // namespace attnlab
