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

std::vector<double> key_column(const CapturedForward& run, int layer, int head, int j) {
  std::vector<double> out;
  if (j < 0 || j >= run.T()) return out;
  out.reserve(size_t(run.T() - j));
  run.stream_rows(layer, head, [&](int t, const float* row) {
    if (t >= j) out.push_back(row[j]);
  });
  return out;
}

TokenView::TokenView(QWidget* parent) : QWidget(parent) {
  jobs_ = new JobRunner(this);
  mode_box_ = new QComboBox;
  mode_box_->addItems({"selected head", "mean over the layer's heads", "mean over all heads"});
  query_box_ = new QSpinBox;
  query_box_->setPrefix("query ");
  query_box_->setRange(0, 0);
  key_box_ = new QSpinBox;
  key_box_->setPrefix("key ");
  key_box_->setRange(0, 0);
  key_box_->setToolTip("The key whose column (which queries attend to it) the right chart shows");
  caption_ = new QLabel;
  caption_->setWordWrap(true);
  plot_ = new QCustomPlot(this);
  plot_->setMinimumHeight(190);
  title_ = new QCPTextElement(plot_, "", title_font());
  plot_->plotLayout()->insertRow(0);
  plot_->plotLayout()->addElement(0, 0, title_);
  column_rect_ = new QCPAxisRect(plot_);
  auto* charts = new QCPLayoutGrid;
  QCPAxisRect* row_rect = plot_->axisRect();
  plot_->plotLayout()->take(row_rect);
  plot_->plotLayout()->simplify();
  plot_->plotLayout()->addElement(1, 0, charts);
  plot_->plotLayout()->setRowStretchFactors({0.001, 1.0});
  charts->addElement(0, 0, row_rect);
  charts->addElement(0, 1, column_rect_);
  charts->setColumnStretchFactors({2.0, 1.0});
  auto* margins = new QCPMarginGroup(plot_);
  row_rect->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
  column_rect_->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
  style_plot(plot_);
  QCPAxis* cx = column_rect_->axis(QCPAxis::atBottom);
  QCPAxis* cy = column_rect_->axis(QCPAxis::atLeft);
  for (QCPAxis* x : {plot_->xAxis, cx}) {
    style_axis(x);
    x->setTickLabelRotation(-60);
    x->grid()->setVisible(false);
    x->setSubTicks(false);
  }
  style_axis(cy);
  plot_->xAxis->setLabel("key (query row)");
  plot_->yAxis->setLabel("attention");
  cx->setLabel("query (key column)");
  bars_ = new QCPBars(plot_->xAxis, plot_->yAxis);
  second_bars_ = new QCPBars(plot_->xAxis, plot_->yAxis);
  column_bars_ = new QCPBars(cx, cy);
  for (QCPBars* b : {bars_, second_bars_, column_bars_}) {
    b->setWidth(0.8);
    b->setPen(Qt::NoPen);
  }
  bars_->setBrush(accent_color());
  bars_->setName("A");
  second_bars_->setBrush(series_color(1));
  second_bars_->setName("B");
  column_bars_->setBrush(series_color(2));
  plot_->legend->setVisible(false);
  plot_->legend->setFont(QFont("DejaVu Sans", 7));
  row_rect->insetLayout()->addElement(plot_->legend, Qt::AlignTop | Qt::AlignRight);
  column_bars_->removeFromLegend();
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  for (QCPAxisRect* r : {row_rect, column_rect_}) {
    r->setRangeDrag(Qt::Horizontal);
    r->setRangeZoom(Qt::Horizontal);
  }
  connect(plot_->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this] {
    update_token_ticks(plot_->xAxis, labels_);
  });
  connect(cx, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
          [this] { update_token_ticks(column_rect_->axis(QCPAxis::atBottom), labels_); });
  text_ = new TokenChips;
  auto* scroll = new QScrollArea;
  scroll->setWidget(text_);
  scroll->setWidgetResizable(true);
  scroll->setMinimumHeight(70);
  legend_ = new QLabel;
  legend_->setTextFormat(Qt::RichText);

  auto* top = new QHBoxLayout;
  top->addWidget(query_box_);
  top->addWidget(key_box_);
  top->addWidget(mode_box_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(top);
  layout->addWidget(caption_);
  layout->addWidget(plot_, 3);
  layout->addWidget(scroll, 2);
  layout->addWidget(legend_);

  connect(query_box_, qOverload<int>(&QSpinBox::valueChanged), this, &TokenView::set_query);
  connect(key_box_, qOverload<int>(&QSpinBox::valueChanged), this, &TokenView::set_key);
  connect(mode_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { recompute(); });
  connect(text_, &TokenChips::chip_clicked, this, &TokenView::set_query);
}

void TokenView::set_source(std::shared_ptr<const CapturedForward> run, const QStringList& labels) {
  run_ = std::move(run);
  labels_ = labels;
  text_->set_tokens(labels_);
  const int T = run_ ? run_->T() : 0;
  for (QSpinBox* box : {query_box_, key_box_}) {
    box->blockSignals(true);
    box->setRange(0, std::max(0, T - 1));
  }
  if (query_ < 0 || query_ >= T) query_ = T - 1;
  if (key_ >= T) key_ = 0;
  query_box_->setValue(std::max(0, query_));
  key_box_->setValue(key_);
  for (QSpinBox* box : {query_box_, key_box_}) box->blockSignals(false);
  recompute();
}

void TokenView::set_head(int layer, int head) {
  layer_ = layer;
  head_ = head;
  recompute();
}

void TokenView::set_second(std::shared_ptr<const CapturedForward> run, int layer, int head,
                           const QString& name) {
  second_run_ = std::move(run);
  second_layer_ = layer;
  second_head_ = head;
  second_name_ = name;
  recompute();
}

void TokenView::set_query(int t) {
  query_ = t;
  query_box_->blockSignals(true);
  query_box_->setValue(t);
  query_box_->blockSignals(false);
  recompute();
}

void TokenView::set_key(int j) {
  key_ = std::max(0, j);
  key_box_->blockSignals(true);
  key_box_->setValue(key_);
  key_box_->blockSignals(false);
  recompute();
}

void TokenView::set_mode(Mode m) { mode_box_->setCurrentIndex(int(m)); }

QString TokenView::head_name(int mode) const {
  return mode == kHead        ? QString("L%1 H%2").arg(layer_).arg(head_)
         : mode == kLayerMean ? QString("mean of layer %1").arg(layer_)
                              : QString("mean of all heads");
}

QString TokenView::title() const { return title_->text(); }

void TokenView::recompute() {
  if (!run_ || query_ < 0 || query_ >= run_->T() || layer_ < 0) {
    jobs_->cancel();
    weights_.clear();
    second_weights_.clear();
    column_.clear();
    for (QCPBars* b : {bars_, second_bars_, column_bars_}) b->data()->clear();
    caption_->setText("Select a head and a query token (click a token below or a row of the map).");
    title_->setText("");
    legend_->clear();
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
  auto run = run_, second = mode == kHead ? second_run_ : nullptr;
  const int t = query_, key = std::min(key_, run_->T() - 1), layer = layer_, head = head_;
  const int l2 = second_layer_, h2 = second_head_;
  auto out = std::make_shared<Rows>();
  jobs_->submit(
      "Token view",
      [run, second, heads, t, key, layer, head, l2, h2, out](JobControl&) {
        out->a = query_row(*run, heads, t);
        if (second && t < second->T() && l2 >= 0) out->b = query_row(*second, {{l2, h2}}, t);
        out->column = key_column(*run, layer, head, key);
      },
      [this, run, t, out, mode](const QString& error, bool cancelled) {
        if (cancelled || !error.isEmpty() || run != run_ || t != query_) return;
        show_rows(std::move(*out), mode);
      });
}

void TokenView::show_rows(Rows rows, int mode) {
  weights_ = std::move(rows.a);
  second_weights_ = std::move(rows.b);
  column_ = std::move(rows.column);
  const bool two = !second_weights_.empty();
  const double off = two ? 0.2 : 0.0;
  QVector<double> x, y, x2, y2;
  int top = 0;
  double ymax = 0;
  for (int j = 0; j < int(weights_.size()); ++j) {
    x << j - off;
    y << weights_[j];
    if (weights_[j] > weights_[top]) top = j;
    ymax = std::max(ymax, weights_[j]);
  }
  for (int j = 0; j < int(second_weights_.size()); ++j) {
    x2 << j + off;
    y2 << second_weights_[j];
    ymax = std::max(ymax, second_weights_[j]);
  }
  for (QCPBars* b : {bars_, second_bars_}) b->setWidth(two ? 0.4 : 0.8);
  bars_->setData(x, y, true);
  second_bars_->setData(x2, y2, true);
  bars_->setName("A: " + head_name(mode));
  second_bars_->setName("B: " + second_name_);
  plot_->legend->setVisible(two);
  const QString who = head_name(mode);
  const QString q = QString("query %1 «%2»").arg(query_).arg(labels_.value(query_));
  QString caption = QString("%1: %2 attends most to key %3 «%4» (%5)")
                        .arg(who)
                        .arg(q)
                        .arg(top)
                        .arg(labels_.value(top))
                        .arg(weights_[top], 0, 'f', 3);
  if (two) caption += QString(" · B = %1").arg(second_name_);
  caption_->setText(caption);
  title_->setText(QString("%1%2 · %3 · key column %4 «%5»")
                      .arg(who)
                      .arg(two ? " vs " + second_name_ : QString())
                      .arg(q)
                      .arg(key_)
                      .arg(labels_.value(key_)));
  std::vector<double> tint(labels_.size(), 0.0);
  std::copy(weights_.begin(), weights_.begin() + std::min(weights_.size(), tint.size()), tint.begin());
  text_->set_weights(tint);
  text_->set_selected(query_);
  legend_->setText(
      TokenChips::legend_html(weights_[top], QString("attention of %1 (%2)").arg(q).arg(who)));
  plot_->xAxis->setRange(-0.5, query_ + 0.5);
  plot_->yAxis->setRange(0, std::max(1e-6, ymax) * 1.1);
  update_token_ticks(plot_->xAxis, labels_);
  // The key column: which queries attend to key_ (head A).
  QVector<double> cxs, cys;
  double cmax = 0;
  for (int i = 0; i < int(column_.size()); ++i) {
    cxs << key_ + i;
    cys << column_[i];
    cmax = std::max(cmax, column_[i]);
  }
  column_bars_->setData(cxs, cys, true);
  QCPAxis* cx = column_rect_->axis(QCPAxis::atBottom);
  cx->setRange(key_ - 0.5, key_ + std::max<int>(1, int(column_.size())) - 0.5);
  column_rect_->axis(QCPAxis::atLeft)->setRange(0, std::max(1e-6, cmax) * 1.1);
  update_token_ticks(cx, labels_);
  plot_->replot();
}

bool TokenView::wait_idle(int timeout_ms) { return jobs_->wait_idle(timeout_ms); }

QString TokenView::csv() const {
  QString out = "key,token,weight";
  if (!second_weights_.empty()) out += ",weight_b";
  out += "\n";
  for (int j = 0; j < int(weights_.size()); ++j) {
    out += QString("%1,\"%2\",%3")
               .arg(j)
               .arg(QString(labels_.value(j)).replace("\"", "\"\""))
               .arg(weights_[j], 0, 'g', 8);
    if (!second_weights_.empty())
      out +=
          "," + QString::number(
                    size_t(j) < second_weights_.size() ? second_weights_[size_t(j)] : 0.0, 'g', 8);
    out += "\n";
  }
  return out;
}

}  // namespace attnlab::gui
