#include "gui/token_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "gui/job_runner.h"
#include "gui/plot_style.h"
#include "gui/token_axis.h"
#include "gui/token_chips.h"

namespace attnlab::gui {

std::vector<double> query_row(const CapturedForward& run, const std::vector<std::pair<int, int>>& heads, int t) {
  std::vector<double> out(size_t(t) + 1, 0.0);
  for (auto [l, h] : heads)
    run.stream_rows(l, h, [&](int row_t, const float* row) {
      if (row_t != t) return;
      for (int j = 0; j <= t; ++j) out[j] += row[j];
    });
  if (!heads.empty())
    for (double& v : out) v /= double(heads.size());
  return out;
}

TokenView::TokenView(QWidget* parent) : QWidget(parent) {
  jobs_ = new JobRunner(this);
  mode_box_ = new QComboBox;
  mode_box_->addItems({"selected head", "mean over the layer's heads", "mean over all heads"});
  query_box_ = new QSpinBox;
  query_box_->setPrefix("query ");
  query_box_->setRange(0, 0);
  caption_ = new QLabel;
  caption_->setWordWrap(true);
  plot_ = new QCustomPlot(this);
  plot_->setMinimumHeight(170);
  style_plot(plot_);
  plot_->xAxis->setTickLabelRotation(-60);
  plot_->xAxis->grid()->setVisible(false);
  plot_->xAxis->setSubTicks(false);
  plot_->yAxis->setLabel("attention");
  bars_ = new QCPBars(plot_->xAxis, plot_->yAxis);
  bars_->setWidth(0.8);
  bars_->setPen(Qt::NoPen);
  bars_->setBrush(accent_color());
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->axisRect()->setRangeDrag(Qt::Horizontal);
  plot_->axisRect()->setRangeZoom(Qt::Horizontal);
  connect(plot_->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this] {
    update_token_ticks(plot_->xAxis, labels_);
  });
  text_ = new TokenChips;
  auto* scroll = new QScrollArea;
  scroll->setWidget(text_);
  scroll->setWidgetResizable(true);
  scroll->setMinimumHeight(70);

  auto* top = new QHBoxLayout;
  top->addWidget(query_box_);
  top->addWidget(mode_box_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(top);
  layout->addWidget(caption_);
  layout->addWidget(plot_, 3);
  layout->addWidget(scroll, 2);

  connect(query_box_, qOverload<int>(&QSpinBox::valueChanged), this, &TokenView::set_query);
  connect(mode_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { recompute(); });
  connect(text_, &TokenChips::chip_clicked, this, &TokenView::set_query);
}

void TokenView::set_source(std::shared_ptr<const CapturedForward> run, const QStringList& labels) {
  run_ = std::move(run);
  labels_ = labels;
  text_->set_tokens(labels_);
  const int T = run_ ? run_->T() : 0;
  query_box_->blockSignals(true);
  query_box_->setRange(0, std::max(0, T - 1));
  if (query_ < 0 || query_ >= T) query_ = T - 1;
  query_box_->setValue(std::max(0, query_));
  query_box_->blockSignals(false);
  recompute();
}

void TokenView::set_head(int layer, int head) {
  layer_ = layer;
  head_ = head;
  recompute();
}

void TokenView::set_query(int t) {
  query_ = t;
  query_box_->blockSignals(true);
  query_box_->setValue(t);
  query_box_->blockSignals(false);
  recompute();
}

void TokenView::set_mode(Mode m) { mode_box_->setCurrentIndex(int(m)); }

void TokenView::recompute() {
  if (!run_ || query_ < 0 || query_ >= run_->T() || layer_ < 0) {
    jobs_->cancel();
    weights_.clear();
    bars_->data()->clear();
    caption_->setText("Select a head and a query token (click a token below or a row of the map).");
    text_->set_weights({});
    plot_->replot();
    return;
  }
  std::vector<std::pair<int, int>> heads;
  const int mode = mode_box_->currentIndex();
  for (int l = 0; l < run_->n_layers(); ++l)
    for (int h = 0; h < run_->n_heads(); ++h)
      if ((mode == kHead && l == layer_ && h == head_) || (mode == kLayerMean && l == layer_) ||
          mode == kModelMean)
        heads.emplace_back(l, h);
  auto run = run_;
  const int t = query_;
  auto out = std::make_shared<std::vector<double>>();
  jobs_->submit(
      "Token view",
      [run, heads, t, out](JobControl&) { *out = query_row(*run, heads, t); },
      [this, run, t, out, mode](const QString& error, bool cancelled) {
        if (cancelled || !error.isEmpty() || run != run_ || t != query_) return;
        show_row(std::move(*out), mode);
      });
}

void TokenView::show_row(std::vector<double> row, int mode) {
  weights_ = std::move(row);
  QVector<double> x(int(weights_.size())), y(int(weights_.size()));
  int top = 0;
  for (int j = 0; j < int(weights_.size()); ++j) {
    x[j] = j;
    y[j] = weights_[j];
    if (weights_[j] > weights_[top]) top = j;
  }
  bars_->setData(x, y, true);
  const QString who = mode == kHead ? QString("L%1 H%2").arg(layer_).arg(head_)
                      : mode == kLayerMean ? QString("mean of layer %1").arg(layer_)
                                           : QString("mean of all heads");
  caption_->setText(QString("%1: query %2 «%3» attends most to key %4 «%5» (%6)")
                        .arg(who).arg(query_).arg(labels_.value(query_)).arg(top)
                        .arg(labels_.value(top)).arg(weights_[top], 0, 'f', 3));
  std::vector<double> tint(labels_.size(), 0.0);
  std::copy(weights_.begin(), weights_.begin() + std::min(weights_.size(), tint.size()), tint.begin());
  text_->set_weights(tint);
  text_->set_selected(query_);
  plot_->xAxis->setRange(-0.5, query_ + 0.5);
  plot_->yAxis->setRange(0, std::max(1e-6, weights_[top]) * 1.1);
  update_token_ticks(plot_->xAxis, labels_);
  plot_->replot();
}

bool TokenView::wait_idle(int timeout_ms) { return jobs_->wait_idle(timeout_ms); }

QString TokenView::csv() const {
  QString out = "key,token,weight\n";
  for (int j = 0; j < int(weights_.size()); ++j)
    out += QString("%1,\"%2\",%3\n").arg(j).arg(QString(labels_.value(j)).replace("\"", "\"\"")).arg(weights_[j], 0, 'g', 8);
  return out;
}

}  // namespace attnlab::gui
