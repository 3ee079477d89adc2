#pragma once
// A head's dashboard (what Neuronpedia and HeadVis give per head): scan a corpus or a task for
// the selected head, streaming windows through the model on a worker thread with progress and
// cancel, and list the query rows where its attention is most extreme by a chosen metric
// (sink mass, induction, entropy), each with its context and the row's weights as coloured tokens.
#include <QWidget>
#include <memory>

#include "core/model/transformer.h"
#include "gui/head_dashboard_scan.h"
#include "gui/token_codec.h"

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QVBoxLayout;

namespace attnlab::gui {

class JobRunner;

class HeadDashboard : public QWidget {
  Q_OBJECT
 public:
  explicit HeadDashboard(QWidget* parent = nullptr);

  void set_model(std::shared_ptr<Transformer> model, std::shared_ptr<const TokenCodec> codec,
                 int bos);
  void set_head(int layer, int head);
  void set_metric(RowMetric m);
  void set_lowest_first(bool on);  // rank the smallest values first
  // A text file (path, or relative to the shared folder) or a task spec ("induction",
  // "mqar(kv=4)").
  void set_source(const QString& source);
  void set_windows(int n);
  void start_scan();
  void cancel();
  bool wait_idle(int timeout_ms = 60000);
  const DashboardScan& result() const { return scan_; }
  QString error() const { return error_; }  // of the last scan ("" when it worked)
  int shown_hits() const;                   // rows listed
  QString csv() const;                      // rank,window,query,score,context

 private:
  void show_scan(DashboardScan scan, const QString& what);
  QString token_label(int32_t id) const;

  std::shared_ptr<Transformer> model_;
  std::shared_ptr<const TokenCodec> codec_;
  int bos_ = -1, layer_ = 0, head_ = 0;
  DashboardScan scan_;
  QString error_;
  JobRunner* jobs_;
  QLabel* header_;
  QComboBox* source_box_;
  QComboBox* metric_box_;
  QComboBox* order_box_;
  QSpinBox* windows_box_;
  QSpinBox* top_box_;
  QPushButton* scan_button_;
  QPushButton* cancel_button_;
  QProgressBar* progress_;
  QLabel* summary_;
  QLabel* legend_;
  QWidget* list_;
  QVBoxLayout* list_layout_;
};

}  // namespace attnlab::gui
