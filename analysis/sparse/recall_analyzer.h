#pragma once
// The recall engine (issue 16 item 1): a ForwardObserver that, for every head and query row,
// measures each pattern at each budget (analysis/sparse/row_recall.h), streaming rows like
// AttentionAnalyzer (no T x T). Aggregates per head and pattern, as HeadTable metrics named
// "<label>.<stat>" (label: SparseSelector::label()):
//   recall (with its 95 % interval over sequences), recall_p10, oracle, efficiency, set_recall,
//   out_err (mean relative output error), fail (P(R_t < 0.9)), density (sum |S_t| / sum n_t),
// and per position bucket (t < 256, 256-1K, 1K-4K, 4K-16K, ...) the head vectors
// "<label>.recall_by_bucket", ".fail_by_bucket", ".density_by_bucket".
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "analysis/head_table.h"
#include "analysis/sequence_mean.h"
#include "analysis/sparse/budget.h"
#include "analysis/sparse/channel_calibration.h"
#include "analysis/sparse/row_recall.h"
#include "analysis/sparse/selector.h"
#include "core/model/observer.h"

namespace attnlab {

// Position bucket of query t: 0 for t < 256, then one per factor 4.
int position_bucket(int t);
std::string position_bucket_name(int bucket);  // "0-256", "256-1024", ...

class SparsityAnalyzer : public ForwardObserver {
 public:
  // Every spec at every budget; with no budgets, every spec at its own size parameters.
  SparsityAnalyzer(int n_layers, int n_heads, const std::vector<std::string>& specs,
                   const std::vector<Budget>& budgets = {});
  // Needed when a channel_topk pattern is measured; not owned, must outlive the forwards.
  void set_calibration(const ChannelCalibration* c) { calibration_ = c; }
  // Sees every row's metrics (tests, the GUI overlay): pattern index into labels().
  using RowSink = std::function<void(int layer, int b, int h, size_t pattern, const RowRecall&)>;
  void set_row_sink(RowSink sink) { sink_ = std::move(sink); }

  const std::vector<std::string>& labels() const { return labels_; }
  bool needs_calibration() const;
  void on_attention(const LayerAttentionView& view) override;
  HeadTable table() const;

 private:
  struct Agg {
    SequenceMean recall;
    double oracle = 0, efficiency = 0, set_recall = 0, out_error = 0, selected = 0, visible = 0;
    int64_t rows = 0, fails = 0;
    std::vector<float> recalls;  // every row's R_t, for the quantile
    std::vector<double> b_recall, b_selected, b_visible;
    std::vector<int64_t> b_rows, b_fails;
    void add(const RowRecall& r);
  };
  using SelectorSet = std::vector<std::unique_ptr<SparseSelector>>;
  SelectorSet make_selectors() const;
  int L_, H_;
  std::vector<std::string> specs_;
  std::vector<Budget> budgets_;
  // Selectors keep per-head state, so each thread measuring heads owns one set; set 0 is built
  // by the constructor (labels, needs_calibration), the others on the first parallel forward.
  std::vector<SelectorSet> selectors_;
  std::vector<std::string> labels_;
  std::vector<Agg> agg_;  // [(L*H) * patterns]
  const ChannelCalibration* calibration_ = nullptr;
  RowSink sink_;
};

}  // namespace attnlab
