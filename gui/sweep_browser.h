#pragma once
// Browse a study's results store: filter runs by config fields, plot a run's final metric
// against a config field (one point per run; categorical fields get one column per value),
// and open a run's checkpoint in the explorer.
#include <qcustomplot.h>

#include <QWidget>
#include <memory>
#include <vector>

#include "experiments/store/store.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace attnlab::gui {

// The y range of the sweep plot for values in [lo, hi].
QCPRange sweep_y_range(double lo, double hi);

class SweepBrowser : public QWidget {
  Q_OBJECT
 public:
  explicit SweepBrowser(QWidget* parent = nullptr);
  ~SweepBrowser() override;

  void open_store(const QString& path);  // errors are emitted as failed()
  void set_filter(const QString& text);  // "key=value key2=value2"
  void set_axes(const QString& field, const QString& metric);
  int visible_runs() const { return int(runs_.size()); }
  QCustomPlot* plot() const { return plot_; }
  QString csv() const;
  QTableWidget* table() const { return table_; }

 signals:
  void open_checkpoint(const QString& path);
  void failed(const QString& error);

 private:
  void refresh();
  void replot();
  std::unique_ptr<exp::Store> store_;
  std::vector<exp::RunRecord> runs_;
  std::vector<std::string> fields_;
  QLineEdit* filter_;
  QComboBox *x_field_, *y_metric_;
  QTableWidget* table_;
  QCustomPlot* plot_;
  QPushButton* open_;
  QLabel* status_;
  std::vector<std::vector<std::string>> plotted_;  // run, x, y
};

}  // namespace attnlab::gui
