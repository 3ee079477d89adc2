#pragma once
// The attention one query pays to the tokens before it, as a bar chart and as highlighted
// text, for the selected head or averaged over the heads of its layer or of the whole model.
#include <QStringList>
#include <QWidget>
#include <memory>
#include <vector>

#include "gui/attention_capture.h"

class QComboBox;
class QCustomPlot;
class QCPBars;
class QSpinBox;
class QLabel;

namespace attnlab::gui {

class JobRunner;
class TokenChips;

class TokenView : public QWidget {
  Q_OBJECT
 public:
  enum Mode { kHead = 0, kLayerMean = 1, kModelMean = 2 };
  explicit TokenView(QWidget* parent = nullptr);

  void set_source(std::shared_ptr<const CapturedForward> run, const QStringList& labels);
  void set_head(int layer, int head);
  void set_query(int t);
  void set_mode(Mode m);
  int query() const { return query_; }
  // Weights of the current query over keys 0..t as shown.
  const std::vector<double>& weights() const { return weights_; }
  QCustomPlot* plot() const { return plot_; }
  QString csv() const;
  // The row is computed on a worker thread (averaging all heads at T = 2048 takes a while);
  // tests and benchmarks wait for it here.
  bool wait_idle(int timeout_ms = 30000);

 private:
  void recompute();
  void show_row(std::vector<double> row, int mode);
  std::shared_ptr<const CapturedForward> run_;
  QStringList labels_;
  int layer_ = -1, head_ = -1, query_ = -1;
  std::vector<double> weights_;
  JobRunner* jobs_;
  QComboBox* mode_box_;
  QSpinBox* query_box_;
  QLabel* caption_;
  QCustomPlot* plot_;
  QCPBars* bars_;
  TokenChips* text_;
};

// Row t of a head (or the mean over several heads), keys 0..t.
std::vector<double> query_row(const CapturedForward& run, const std::vector<std::pair<int, int>>& heads, int t);

}  // namespace attnlab::gui
