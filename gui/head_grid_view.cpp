#include "gui/head_grid_view.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QToolTip>
#include <QVBoxLayout>
#include <cmath>

#include "core/tensor/error.h"
#include "gui/color_lut.h"
#include "gui/plot_style.h"

namespace attnlab::gui {

HeadGridView::HeadGridView(QWidget* parent) : QWidget(parent) {
  metric_box_ = new QComboBox;
  metric_box_->setToolTip("Metric that colours the grid");
  relative_box_ = new QCheckBox("÷ chance");
  relative_box_->setToolTip("Show observed / chance: the metric divided by what uniform attention over the "
                            "same visible keys and tokens scores (1 = no better than uniform)");
  connect(relative_box_, &QCheckBox::toggled, this, [this] { redraw(); });
  plot_ = new QCustomPlot(this);
  plot_->setMinimumSize(260, 200);
  const LayerHeadPlot parts = setup_layer_head_plot(plot_, "Open a model and type a prompt");
  title_ = parts.title;
  scale_ = parts.scale;
  QCPAxis* x = plot_->xAxis;
  QCPAxis* y = plot_->yAxis;
  for (QCPAxis* a : {x, y}) {
    QSharedPointer<QCPAxisTickerFixed> t(new QCPAxisTickerFixed);
    t->setTickStep(1);
    t->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    a->setTicker(t);
  }
  map_ = new QCPColorMap(x, y);
  map_->setGradient(viridis_gradient());
  map_->setInterpolate(false);
  map_->setColorScale(scale_);
  selection_ = new QCPItemRect(plot_);  // after the map, so it draws on top
  selection_->setPen(QPen(QColor(0xd6, 0x27, 0x28), 2.5));
  selection_->setBrush(Qt::NoBrush);
  selection_->setVisible(false);
  compare_mark_ = new QCPItemRect(plot_);
  compare_mark_->setPen(QPen(QColor(0xff, 0x7f, 0x0e), 2.5, Qt::DashLine));
  compare_mark_->setBrush(Qt::NoBrush);
  compare_mark_->setVisible(false);
  plot_->setMouseTracking(true);

  connect(metric_box_, &QComboBox::currentTextChanged, this, [this] { redraw(); });
  connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* ev) {
    int l, h;
    if (!cell_at(ev->position(), l, h)) return QToolTip::hideText();
    const int m = metric_box_->currentIndex();
    QString text = QString("L%1 H%2  %3 = %4").arg(l).arg(h).arg(metric_box_->currentText())
                       .arg(grid_.at(m, l, h), 0, 'g', 4);
    const double chance = grid_.chance.empty() ? std::nan("") : grid_.chance_at(m, l);
    if (std::isfinite(chance)) text += QString("  (uniform attention: %1)").arg(chance, 0, 'g', 4);
    QToolTip::showText(ev->globalPosition().toPoint(), text, plot_);
  });
  connect(plot_, &QCustomPlot::mousePress, this, [this](QMouseEvent* ev) {
    int l, h;
    if (!cell_at(ev->position(), l, h)) return;
    if (ev->modifiers() & Qt::ControlModifier)
      emit compare_clicked(l, h);
    else
      emit head_clicked(l, h);
  });

  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel("Colour by"));
  top->addWidget(metric_box_, 1);
  top->addWidget(relative_box_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(top);
  layout->addWidget(plot_, 1);
  auto* hint = new QLabel("Click a head to open it · Ctrl+click: compare");
  hint->setStyleSheet("color: #666;");
  layout->addWidget(hint);
}

void HeadGridView::clear() {
  grid_ = MetricGrid{};
  map_->data()->clear();
  for (auto* t : cell_texts_) plot_->removeItem(t);
  cell_texts_.clear();
  selection_->setVisible(false);
  compare_mark_->setVisible(false);
  title_->setText("Open a model and type a prompt");
  plot_->replot();
}

void HeadGridView::set_grid(const MetricGrid& grid) {
  const QString keep = metric_box_->currentText();
  grid_ = grid;
  metric_box_->blockSignals(true);
  metric_box_->clear();
  for (size_t i = 0; i < grid_.metrics.size(); ++i) {
    metric_box_->addItem(QString::fromStdString(grid_.metrics[i].name));
    metric_box_->setItemData(int(i), QString::fromStdString(grid_.metrics[i].help), Qt::ToolTipRole);
  }
  const int idx = metric_box_->findText(keep);
  metric_box_->setCurrentIndex(idx >= 0 ? idx : 0);
  metric_box_->blockSignals(false);
  redraw();
}

void HeadGridView::select_metric(const QString& name) {
  const int idx = metric_box_->findText(name);
  if (idx >= 0) metric_box_->setCurrentIndex(idx);
}

QString HeadGridView::metric() const { return metric_box_->currentText(); }

void HeadGridView::set_relative_to_chance(bool on) { relative_box_->setChecked(on); }

double HeadGridView::shown_value(int metric, int layer, int head) const {
  const double v = grid_.at(metric, layer, head);
  if (!relative_box_->isChecked()) return v;
  const double c = grid_.chance.empty() ? std::nan("") : grid_.chance_at(metric, layer);
  return std::isfinite(c) && c != 0 ? v / c : std::nan("");
}

void HeadGridView::redraw() {
  const int m = metric_box_->currentIndex();
  for (auto* t : cell_texts_) plot_->removeItem(t);
  cell_texts_.clear();
  if (m < 0 || grid_.n_layers == 0) return;
  const int L = grid_.n_layers, H = grid_.n_heads;
  map_->data()->setSize(H, L);
  map_->data()->setRange(QCPRange(0, H - 1), QCPRange(0, L - 1));
  const bool relative = relative_box_->isChecked();
  const double lo = relative ? 0.0 : grid_.metrics[m].lo;
  double hi = relative ? 1.0 : grid_.metrics[m].hi;
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h) {
      const double v = shown_value(m, l, h);
      map_->data()->setCell(h, l, std::isfinite(v) ? v : lo);
      if (std::isfinite(v)) hi = std::max(hi, v);
    }
  map_->setDataRange(QCPRange(lo, hi));
  plot_->xAxis->setRange(-0.5, H - 0.5);
  plot_->yAxis->setRange(-0.5, L - 0.5);
  // Every head and layer numbered while they fit (up to 32), else every k-th.
  for (auto [axis, n] : {std::pair{plot_->xAxis, H}, std::pair{plot_->yAxis, L}}) {
    QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
    const int step = n <= 32 ? 1 : (n + 15) / 16;
    for (int i = 0; i < n; i += step) ticks->addTick(i, QString::number(i));
    axis->setTicker(ticks);
  }
  title_->setText(metric_box_->currentText() + (relative ? " ÷ chance" : ""));
  scale_->axis()->setLabel(relative ? "observed / uniform attention" : "");
  // Values inside the cells while they are big enough to read.
  if (L * H <= 256) {
    for (int l = 0; l < L; ++l)
      for (int h = 0; h < H; ++h) {
        const double v = shown_value(m, l, h);
        const double f = (v - lo) / std::max(1e-12, hi - lo);
        auto* t = new QCPItemText(plot_);
        t->position->setCoords(h, l);
        t->setText(!std::isfinite(v) ? "–" : relative ? QString("×%1").arg(v, 0, 'f', 1) : QString::number(v, 'f', 2));
        t->setFont(QFont("DejaVu Sans", 7));
        t->setColor(f > 0.6 ? Qt::black : Qt::white);
        t->setClipToAxisRect(true);
        cell_texts_.push_back(t);
      }
  }
  plot_->replot();
}

void HeadGridView::mark_selected(int layer, int head) {
  mark_layer_head(selection_, layer, head);
  plot_->replot();
}

void HeadGridView::mark_compare(int layer, int head) {
  mark_layer_head(compare_mark_, layer, head, 0.08);  // inside the selection's outline
  plot_->replot();
}

bool HeadGridView::compare_marked() const { return compare_mark_->visible(); }

void HeadGridView::select_metric_matching(const QString& name) {
  QStringList all, hits;
  for (int i = 0; i < metric_box_->count(); ++i) {
    const QString m = metric_box_->itemText(i);
    all << m;
    if (m.compare(name, Qt::CaseInsensitive) == 0) return metric_box_->setCurrentIndex(i);
    if (m.contains(name, Qt::CaseInsensitive)) hits << m;
  }
  if (hits.size() == 1) return metric_box_->setCurrentIndex(metric_box_->findText(hits.first()));
  throw Error("metric '" + name.toStdString() + "': " + (hits.isEmpty() ? "no" : "more than one") +
              " metric matches; the metrics are: " + all.join(", ").toStdString());
}

bool HeadGridView::cell_at(const QPointF& pos, int& layer, int& head) const {
  return layer_head_at(plot_, pos, grid_.n_layers, grid_.n_heads, layer, head);
}

QPoint HeadGridView::cell_center(int layer, int head) const { return layer_head_center(plot_, layer, head); }

QString HeadGridView::csv() const {
  QString out = "layer,head";
  for (const auto& m : grid_.metrics) out += ",\"" + QString::fromStdString(m.name) + "\"";
  out += "\n";
  for (int l = 0; l < grid_.n_layers; ++l)
    for (int h = 0; h < grid_.n_heads; ++h) {
      out += QString("%1,%2").arg(l).arg(h);
      for (size_t m = 0; m < grid_.metrics.size(); ++m)
        out += "," + QString::number(grid_.at(int(m), l, h), 'g', 8);
      out += "\n";
    }
  return out;
}

}  // namespace attnlab::gui
