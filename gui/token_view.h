#pragma once
// The attention one query pays to the tokens before it, as a bar chart and as highlighted
// text, for the selected head or averaged over the heads of its layer or of the whole model;
// beside it the key-column view (which queries attend to the chosen key). In a comparison the
// second head (B) is drawn beside the first (A) in both charts.
#include <QStringList>
#include <QWidget>
#include <memory>
#include <vector>

#include "gui/attention_capture.h"

class QComboBox;
class QCustomPlot;
class QCPAxisRect;
class QCPBars;
class QCPTextElement;
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
  // The comparison's head B (of `run`: the same capture or a second model's); null clears it.
  void set_second(std::shared_ptr<const CapturedForward> run, int layer, int head,
                  const QString& name);
  void set_query(int t);
  void set_key(int j);  // the key-column view's key
  void set_mode(Mode m);
  int query() const { return query_; }
  int key() const { return key_; }
  // Weights of the current query over keys 0..t as shown (head A), of head B (empty without one),
  // and of the key column: queries key..T-1 attending to key (head A).
  const std::vector<double>& weights() const { return weights_; }
  const std::vector<double>& second_weights() const { return second_weights_; }
  const std::vector<double>& column() const { return column_; }
  QString title() const;
  QCustomPlot* plot() const { return plot_; }
  QString csv() const;
  // The row is computed on a worker thread (averaging all heads at T = 2048 takes a while);
  // tests and benchmarks wait for it here.
  bool wait_idle(int timeout_ms = 30000);

 private:
  struct Rows {
    std::vector<double> a, b, column;
  };
  void recompute();
  void show_rows(Rows rows, int mode);
  QString head_name(int mode) const;
  std::shared_ptr<const CapturedForward> run_, second_run_;
  QStringList labels_;
  QString second_name_;
  int layer_ = -1, head_ = -1, query_ = -1, key_ = 0;
  int second_layer_ = -1, second_head_ = -1;
  std::vector<double> weights_, second_weights_, column_;
  JobRunner* jobs_;
  QComboBox* mode_box_;
  QSpinBox* query_box_;
  QSpinBox* key_box_;
  QLabel* caption_;
  QLabel* legend_;
  QCustomPlot* plot_;
  QCPTextElement* title_;
  QCPAxisRect* column_rect_;
  QCPBars* bars_;
  QCPBars* second_bars_;
  QCPBars* column_bars_;
  TokenChips* text_;
};

// Row t of a head (or the mean over several heads), keys 0..t.
std::vector<double> query_row(const CapturedForward& run, const std::vector<std::pair<int, int>>& heads, int t);
// Column j of a head: the weight each query t >= j gives key j (entries t = j..T-1).
std::vector<double> key_column(const CapturedForward& run, int layer, int head, int j);

}  // namespace attnlab::gui
