#pragma once
// Configure and start a training run, watch its loss and the sink score of every head
// appear step by step, pause or stop it, and open the trained checkpoint in the explorer.
#include <QWidget>
#include <memory>
#include <tuple>
#include <vector>

#include "gui/train_session.h"

class QComboBox;
class QCustomPlot;
class QCPLegend;
class QCPGraph;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace attnlab::gui {

class TrainPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TrainPanel(QWidget* parent = nullptr);
  ~TrainPanel() override;

  TrainRequest request() const;
  void set_request(const TrainRequest& r);
  void start();
  void toggle_pause();
  void stop();
  TrainSession* session() const { return session_.get(); }
  QCustomPlot* plot() const { return plot_; }
  QString csv() const;  // step,loss; step,best_induction,task_accuracy; step,layer,head,sink
  // (step, best head's induction score, task accuracy) of each probe so far.
  const std::vector<std::tuple<qint64, double, double>>& scores() const { return scores_; }

 signals:
  void open_checkpoint(const QString& path);
  void failed(const QString& error);

 private:
  void on_step(qint64 step, double loss);
  void on_probe(qint64 step, const std::vector<double>& sink, int n_layers, int n_heads);
  void on_scores(qint64 step, double induction, double accuracy);
  void clear_sink_graphs();
  void on_finished(const QString& status, const QString& error, const QString& checkpoint);

  QComboBox *task_, *attention_, *size_, *device_;
  QSpinBox *steps_, *batch_, *seq_len_, *probe_every_, *seed_;
  QDoubleSpinBox* lr_;
  QLineEdit* store_;
  QPushButton *start_, *pause_, *stop_, *open_;
  QLabel* status_;
  QCustomPlot* plot_;
  QCPLegend* layer_legend_;
  QVector<QCPGraph*> sink_graphs_;
  QCPGraph* loss_graph_;
  QCPGraph* induction_graph_;
  QCPGraph* accuracy_graph_;
  std::unique_ptr<TrainSession> session_;
  QString checkpoint_;
  std::vector<std::pair<qint64, double>> loss_;
  std::vector<std::pair<qint64, std::vector<double>>> sink_;
  std::vector<std::tuple<qint64, double, double>> scores_;  // step, induction, accuracy
  int n_layers_ = 0, n_heads_ = 0;
};

}  // namespace attnlab::gui
