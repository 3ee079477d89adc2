#include "gui/sparse_overlay.h"

#include <cmath>
#include <cstdio>
#include <memory>

#include "analysis/sparse/selector.h"
#include "core/tensor/error.h"

namespace attnlab::gui {

KeySelection select_keys(const CapturedForward& run, int layer, int head, const std::string& spec) {
  std::unique_ptr<SparseSelector> sel = make_selector(spec);
  if (sel->needs_channels())
    throw Error("pattern '" + spec +
                "' ranks keys on channels calibrated on another input; measure it with attnlab "
                "analyze --probe sparsity --patterns '" +
                spec + "'");
  KeySelection out;
  out.label = sel->label();
  out.layer = layer;
  out.head = head;
  const int T = run.T();
  out.keys.resize(size_t(T));
  out.recall.assign(size_t(T), 0.0);
  const KeyMask mask = run.mask(layer);
  double kept = 0, visible = 0, uniform = 0;
  int fails = 0;
  run.stream_selections(layer, head, {sel.get()},
                        [&](int t, const float* row, const std::vector<std::vector<int>>& keys) {
                          double r = 0;
                          for (int j : keys[0]) r += row[j];
                          out.keys[size_t(t)] = keys[0];
                          out.recall[size_t(t)] = r;
                          const int n = mask.visible_count(t);
                          kept += double(keys[0].size());
                          visible += n;
                          if (n > 0) uniform += double(keys[0].size()) / n;
                          fails += r < 0.9;
                        });
  double sum = 0;
  for (double r : out.recall) sum += r;
  out.mean_recall = T > 0 ? sum / T : std::nan("");
  out.density = visible > 0 ? kept / visible : std::nan("");
  out.fail = T > 0 ? double(fails) / T : std::nan("");
  out.uniform_recall = T > 0 ? uniform / T : std::nan("");
  return out;
}

std::string add_recall_metric(MetricGrid& grid, const CapturedForward& run, const std::string& spec,
                       const std::atomic<bool>* cancel) {
  std::vector<double> values(size_t(grid.n_layers) * grid.n_heads);
  std::vector<double> chance(size_t(grid.n_layers));
  std::string label;
  for (int l = 0; l < grid.n_layers; ++l)
    for (int h = 0; h < grid.n_heads; ++h) {
      if (cancel && cancel->load()) throw Cancelled{};
      const KeySelection s = select_keys(run, l, h, spec);
      values[size_t(l) * grid.n_heads + h] = s.mean_recall;
      // The grid keeps one chance level per layer: the mean over its heads, whose set sizes may
      // differ where a pattern estimates them from the head's own rows.
      chance[size_t(l)] += s.uniform_recall / grid.n_heads;
      label = s.label;
    }
  MetricInfo info{
      "recall: " + label,
      "Mean over query rows of R_t, the head's attention mass on the keys " + label +
          " keeps (shared/SPARSE.md 1.1; docs/sparse.md). Chance: the mean over rows of |S_t| / "
          "n_t, what uniform attention over the visible keys would keep.",
      0, 1};
  int m = grid.index_of(info.name);
  if (m < 0) {
    grid.metrics.push_back(info);
    grid.values.push_back(values);
    grid.chance.push_back(chance);
  } else {
    grid.metrics[size_t(m)] = info;
    grid.values[size_t(m)] = values;
    grid.chance[size_t(m)] = chance;
  }
  return info.name;
}

std::string describe_selection(const KeySelection& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%s on L%d H%d: keeps %.0f %% of the visible keys and %.2f of the attention mass "
                "(mean over rows; %.0f %% of rows below 0.9)",
                s.label.c_str(), s.layer, s.head, 100 * s.density, s.mean_recall, 100 * s.fail);
  return buf;
}

}  // namespace attnlab::gui
