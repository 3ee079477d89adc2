#include "gui/train_panel.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>
#include <cmath>

#include "core/attention/attention.h"
#include "datasets/task_registry.h"
#include "experiments/device/train_device.h"
#include "gui/plot_style.h"

namespace attnlab::gui {

TrainPanel::TrainPanel(QWidget* parent) : QWidget(parent) {
  task_ = new QComboBox;
  for (const TaskInfo& t : task_catalog()) {
    task_->addItem(QString::fromStdString(t.name));
    task_->setItemData(task_->count() - 1, QString::fromStdString(t.summary), Qt::ToolTipRole);
  }
  attention_ = new QComboBox;
  attention_->setEditable(true);
  attention_->setToolTip("Attention variant spec, e.g. softmax, sigmoid(bias=-2), window(size=16,sinks=1)");
  for (const VariantInfo& v : attention_variants())
    attention_->addItem(QString::fromStdString(v.test_specs.empty() ? v.name : v.test_specs.front()));
  attention_->setCurrentText("softmax");
  size_ = new QComboBox;
  size_->addItems({"tiny", "small", "llama-tiny"});
  device_ = new QComboBox;
  device_->addItem("cpu");
  device_->addItem("cuda");
  try {
    exp::check_compute({"cuda", "fp32"});
  } catch (const std::exception& e) {  // no GPU here: show the choice, greyed out, with the reason
    auto* model = qobject_cast<QStandardItemModel*>(device_->model());
    if (model) model->item(1)->setEnabled(false);
    device_->setItemData(1, QString::fromStdString(e.what()), Qt::ToolTipRole);
  }
  auto spin = [](int lo, int hi, int v) {
    auto* s = new QSpinBox;
    s->setRange(lo, hi);
    s->setValue(v);
    return s;
  };
  steps_ = spin(1, 1000000, 200);
  batch_ = spin(1, 1024, 8);
  seq_len_ = spin(4, 4096, 64);
  probe_every_ = spin(1, 100000, 20);
  seed_ = spin(0, 1 << 30, 0);
  lr_ = new QDoubleSpinBox;
  lr_->setDecimals(5);
  lr_->setRange(1e-5, 1.0);
  lr_->setSingleStep(1e-4);
  lr_->setValue(3e-3);
  store_ = new QLineEdit;
  store_->setPlaceholderText("results store (.sqlite); empty: not stored");
  auto* browse = new QPushButton("…");
  browse->setMaximumWidth(32);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString p = QFileDialog::getSaveFileName(this, "Results store", "gui-runs.sqlite", "SQLite (*.sqlite)");
    if (!p.isEmpty()) store_->setText(p);
  });
  auto* store_row = new QHBoxLayout;
  store_row->addWidget(store_, 1);
  store_row->addWidget(browse);

  auto* form = new QFormLayout;
  form->addRow("Task", task_);
  form->addRow("Attention", attention_);
  form->addRow("Model size", size_);
  form->addRow("Device", device_);
  form->addRow("Steps", steps_);
  form->addRow("Batch", batch_);
  form->addRow("Sequence length", seq_len_);
  form->addRow("Learning rate", lr_);
  form->addRow("Probe every", probe_every_);
  form->addRow("Seed", seed_);
  form->addRow("Store", store_row);

  start_ = new QPushButton("Start");
  pause_ = new QPushButton("Pause");
  stop_ = new QPushButton("Stop");
  open_ = new QPushButton("Open in explorer");
  pause_->setEnabled(false);
  stop_->setEnabled(false);
  open_->setEnabled(false);
  connect(start_, &QPushButton::clicked, this, &TrainPanel::start);
  connect(pause_, &QPushButton::clicked, this, &TrainPanel::toggle_pause);
  connect(stop_, &QPushButton::clicked, this, &TrainPanel::stop);
  connect(open_, &QPushButton::clicked, this, [this] { emit open_checkpoint(checkpoint_); });
  auto* buttons = new QHBoxLayout;
  for (QPushButton* b : {start_, pause_, stop_, open_}) buttons->addWidget(b);
  status_ = new QLabel("Configure a run and press Start.");
  status_->setWordWrap(true);

  auto* left = new QVBoxLayout;
  left->addLayout(form);
  left->addLayout(buttons);
  left->addWidget(status_);
  left->addStretch(1);
  auto* left_box = new QWidget;
  left_box->setLayout(left);
  left_box->setMaximumWidth(380);

  plot_ = new QCustomPlot(this);
  plot_->plotLayout()->clear();
  auto* loss_rect = new QCPAxisRect(plot_);
  auto* score_rect = new QCPAxisRect(plot_);
  auto* sink_rect = new QCPAxisRect(plot_);
  plot_->plotLayout()->addElement(0, 0, loss_rect);
  plot_->plotLayout()->addElement(1, 0, score_rect);
  plot_->plotLayout()->addElement(2, 0, sink_rect);
  auto* group = new QCPMarginGroup(plot_);
  for (QCPAxisRect* r : {loss_rect, score_rect, sink_rect})
    r->setMarginGroup(QCP::msLeft | QCP::msRight, group);
  score_rect->axis(QCPAxis::atLeft)->setLabel("probe score");
  score_rect->axis(QCPAxis::atBottom)->setLabel("step");
  score_rect->axis(QCPAxis::atLeft)->setRange(0, 1.02);
  loss_rect->axis(QCPAxis::atLeft)->setLabel("training loss");
  loss_rect->axis(QCPAxis::atBottom)->setLabel("step");
  sink_rect->axis(QCPAxis::atLeft)->setLabel("sink score α₁ per head");
  sink_rect->axis(QCPAxis::atBottom)->setLabel("step");
  sink_rect->axis(QCPAxis::atLeft)->setRange(0, 1);
  // The layer legend becomes plot_->legend; entries are added by hand (one per layer).
  plot_->setAutoAddPlottableToLegend(false);
  layer_legend_ = new QCPLegend;
  sink_rect->insetLayout()->addElement(layer_legend_, Qt::AlignTop | Qt::AlignRight);
  layer_legend_->setLayer("legend");
  layer_legend_->setFont(QFont(screen_style().font_family, 8));
  layer_legend_->setBrush(QColor(255, 255, 255, 220));
  layer_legend_->setBorderPen(QPen(QColor(0, 0, 0, 60)));
  loss_graph_ = new QCPGraph(loss_rect->axis(QCPAxis::atBottom), loss_rect->axis(QCPAxis::atLeft));
  loss_graph_->setPen(QPen(accent_color(), 1.3));
  induction_graph_ =
      new QCPGraph(score_rect->axis(QCPAxis::atBottom), score_rect->axis(QCPAxis::atLeft));
  induction_graph_->setPen(QPen(series_color(1), 1.3));
  induction_graph_->setName("best head's induction score");
  accuracy_graph_ =
      new QCPGraph(score_rect->axis(QCPAxis::atBottom), score_rect->axis(QCPAxis::atLeft));
  accuracy_graph_->setPen(QPen(series_color(2), 1.3));
  accuracy_graph_->setName("task accuracy");
  for (QCPGraph* g : {induction_graph_, accuracy_graph_})
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 3));
  auto* score_legend = new QCPLegend;
  score_rect->insetLayout()->addElement(score_legend,
                                        Qt::AlignTop | Qt::AlignLeft);  // curves rise to the right
  score_legend->setLayer("legend");
  score_legend->setFont(QFont(screen_style().font_family, 8));
  score_legend->setBrush(QColor(255, 255, 255, 220));
  score_legend->addItem(new QCPPlottableLegendItem(score_legend, induction_graph_));
  score_legend->addItem(new QCPPlottableLegendItem(score_legend, accuracy_graph_));
  style_plot(plot_);

  auto* layout = new QHBoxLayout(this);
  layout->addWidget(left_box);
  layout->addWidget(plot_, 1);
}

TrainPanel::~TrainPanel() { stop(); }

TrainRequest TrainPanel::request() const {
  TrainRequest r;
  r.task = task_->currentText().toStdString();
  r.attention = attention_->currentText().toStdString();
  r.size = size_->currentText().toStdString();
  r.device = device_->currentText().toStdString();
  r.steps = steps_->value();
  r.batch = batch_->value();
  r.seq_len = seq_len_->value();
  r.probe_every = probe_every_->value();
  r.lr = float(lr_->value());
  r.seed = uint64_t(seed_->value());
  r.store = store_->text().toStdString();
  return r;
}

void TrainPanel::set_request(const TrainRequest& r) {
  task_->setCurrentText(QString::fromStdString(r.task));
  attention_->setCurrentText(QString::fromStdString(r.attention));
  size_->setCurrentText(QString::fromStdString(r.size));
  device_->setCurrentText(QString::fromStdString(r.device));
  steps_->setValue(r.steps);
  batch_->setValue(r.batch);
  seq_len_->setValue(r.seq_len);
  probe_every_->setValue(r.probe_every);
  lr_->setValue(r.lr);
  seed_->setValue(int(r.seed));
  store_->setText(QString::fromStdString(r.store));
}

void TrainPanel::start() {
  if (session_ && session_->running()) return;
  loss_.clear();
  sink_.clear();
  clear_sink_graphs();
  loss_graph_->data()->clear();
  scores_.clear();
  induction_graph_->data()->clear();
  accuracy_graph_->data()->clear();
  session_ = std::make_unique<TrainSession>(request());
  connect(session_.get(), &TrainSession::scores_done, this, &TrainPanel::on_scores);
  connect(session_.get(), &TrainSession::step_done, this, &TrainPanel::on_step);
  connect(session_.get(), &TrainSession::probe_done, this, &TrainPanel::on_probe);
  connect(session_.get(), &TrainSession::finished, this, &TrainPanel::on_finished);
  start_->setEnabled(false);
  pause_->setEnabled(true);
  pause_->setText("Pause");
  stop_->setEnabled(true);
  open_->setEnabled(false);
  status_->setText("Training…");
  session_->start();
}

void TrainPanel::toggle_pause() {
  if (!session_) return;
  const bool pause = pause_->text() == "Pause";
  session_->set_paused(pause);
  pause_->setText(pause ? "Resume" : "Pause");
  status_->setText(pause ? "Paused (the run waits at the next step)." : "Training…");
}

void TrainPanel::stop() {
  if (session_) session_->stop();
}

void TrainPanel::on_step(qint64 step, double loss) {
  loss_.emplace_back(step, loss);
  QCPGraph* g = loss_graph_;
  g->addData(double(step), loss);
  bool found = false;
  const QCPRange r = g->getValueRange(found);
  if (found) {
    const double pad = std::max(1e-3, 0.06 * r.size());
    g->valueAxis()->setRange(std::max(0.0, r.lower - pad), r.upper + pad);
  }
  status_->setText(QString("step %1 / %2, loss %3").arg(step).arg(session_->request().steps).arg(loss, 0, 'f', 4));
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainPanel::clear_sink_graphs() {
  layer_legend_->clearItems();  // before the graphs its items point at
  for (QCPGraph* g : sink_graphs_) plot_->removeGraph(g);
  sink_graphs_.clear();
}

void TrainPanel::on_probe(qint64 step, const std::vector<double>& sink, int n_layers, int n_heads) {
  sink_.emplace_back(step, sink);
  QCPAxisRect* rect = plot_->axisRect(2);
  if (sink_graphs_.size() != int(sink.size())) {
    n_layers_ = n_layers;
    n_heads_ = n_heads;
    clear_sink_graphs();
    // One colour per layer, heads of a layer share it: the layer structure stays readable.
    for (int l = 0; l < n_layers; ++l)
      for (int h = 0; h < n_heads; ++h) {
        auto* g = new QCPGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        g->setPen(QPen(series_color(l), 1.0));
        g->setName(QString("layer %1").arg(l));
        sink_graphs_.push_back(g);
        // The legend names layers, not every head: one entry per colour.
        if (h == 0) layer_legend_->addItem(new QCPPlottableLegendItem(layer_legend_, g));
      }
  }
  for (int i = 0; i < sink_graphs_.size(); ++i) sink_graphs_[i]->addData(double(step), sink[i]);
  rect->axis(QCPAxis::atBottom)->setRange(0, std::max<double>(1, session_->request().steps));
  for (int i : {0, 1})
    plot_->axisRect(i)
        ->axis(QCPAxis::atBottom)
        ->setRange(0, std::max<double>(1, session_->request().steps));
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainPanel::on_scores(qint64 step, double induction, double accuracy) {
  scores_.emplace_back(step, induction, accuracy);
  if (std::isfinite(induction)) induction_graph_->addData(double(step), induction);
  if (std::isfinite(accuracy)) accuracy_graph_->addData(double(step), accuracy);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainPanel::on_finished(const QString& status, const QString& error, const QString& checkpoint) {
  start_->setEnabled(true);
  pause_->setEnabled(false);
  stop_->setEnabled(false);
  checkpoint_ = checkpoint;
  open_->setEnabled(!checkpoint.isEmpty());
  if (status == "failed") {
    status_->setText("Failed: " + error);
    emit failed(error);
    return;
  }
  status_->setText(QString("Run %1 %2%3").arg(QString::fromStdString(session_->run_id()), status,
                                              checkpoint.isEmpty() ? "" : "; checkpoint " + checkpoint));
}

QString TrainPanel::csv() const {
  QString out = "step,loss\n";
  for (auto [s, l] : loss_) out += QString("%1,%2\n").arg(s).arg(l, 0, 'g', 8);
  out += "\nstep,best_induction,task_accuracy\n";
  for (auto [s, ind, acc] : scores_)
    out += QString("%1,%2,%3\n").arg(s).arg(ind, 0, 'g', 8).arg(acc, 0, 'g', 8);
  out += "\nstep,layer,head,sink_alpha1\n";
  for (const auto& [s, v] : sink_)
    for (int i = 0; i < int(v.size()); ++i)
      out += QString("%1,%2,%3,%4\n").arg(s).arg(i / std::max(1, n_heads_)).arg(i % std::max(1, n_heads_)).arg(v[i], 0, 'g', 8);
  return out;
}

}  // namespace attnlab::gui
