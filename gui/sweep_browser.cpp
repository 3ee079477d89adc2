#include "gui/sweep_browser.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <map>
#include <sstream>

#include "experiments/store/query.h"
#include "gui/plot_style.h"

namespace attnlab::gui {
namespace {

// A category label that fits under its tick: long names wrap at their separators.
QString wrap_category(const std::string& name, int width = 14) {
  QString out, line;
  const QString s = QString::fromStdString(name);
  for (int i = 0; i < s.size(); ++i) {
    line += s[i];
    const bool sep = QString(",_=(+ ").contains(s[i]);
    if (line.size() >= width && sep && i + 1 < s.size()) {
      out += line + "\n";
      line.clear();
    }
  }
  return out + line;
}

}  // namespace

SweepBrowser::SweepBrowser(QWidget* parent) : QWidget(parent) {
  auto* open_store_button = new QPushButton("Open store…");
  connect(open_store_button, &QPushButton::clicked, this, [this] {
    const QString p = QFileDialog::getOpenFileName(this, "Open results store", QString(), "SQLite (*.sqlite *.db);;All files (*)");
    if (!p.isEmpty()) open_store(p);
  });
  filter_ = new QLineEdit;
  filter_->setPlaceholderText("filter: key=value …  (e.g. attention=softmax seed=0)");
  connect(filter_, &QLineEdit::editingFinished, this, &SweepBrowser::refresh);
  x_field_ = new QComboBox;
  y_metric_ = new QComboBox;
  connect(x_field_, &QComboBox::currentTextChanged, this, &SweepBrowser::replot);
  connect(y_metric_, &QComboBox::currentTextChanged, this, &SweepBrowser::replot);
  open_ = new QPushButton("Open checkpoint in explorer");
  connect(open_, &QPushButton::clicked, this, [this] {
    const int row = table_->currentRow();
    if (row < 0 || row >= int(runs_.size())) return;
    if (runs_[row].checkpoint_path.empty())
      return emit failed("run " + QString::fromStdString(runs_[row].id) + " has no checkpoint");
    emit open_checkpoint(QString::fromStdString(runs_[row].checkpoint_path));
  });
  status_ = new QLabel("Open a study's .sqlite store.");
  table_ = new QTableWidget;
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setStretchLastSection(true);
  plot_ = new QCustomPlot(this);
  style_plot(plot_);

  auto* top = new QHBoxLayout;
  top->addWidget(open_store_button);
  top->addWidget(filter_, 1);
  // Each chooser on its own row, wide enough for the longest name (no cut-off metric names).
  for (QComboBox* box : {x_field_, y_metric_}) {
    box->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    box->setMinimumContentsLength(24);
  }
  auto* axes = new QGridLayout;
  axes->addWidget(new QLabel("x: config field"), 0, 0);
  axes->addWidget(x_field_, 0, 1);
  axes->addWidget(new QLabel("y: final metric"), 1, 0);
  axes->addWidget(y_metric_, 1, 1);
  axes->addWidget(open_, 1, 2);
  axes->setColumnStretch(1, 1);
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(table_);
  split->addWidget(plot_);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addLayout(axes);
  layout->addWidget(status_);
  layout->addWidget(split, 1);
}

SweepBrowser::~SweepBrowser() = default;

void SweepBrowser::open_store(const QString& path) {
  try {
    auto store = std::make_unique<exp::Store>(path.toStdString(), true);
    store_ = std::move(store);
    x_field_->blockSignals(true);
    y_metric_->blockSignals(true);
    x_field_->clear();
    y_metric_->clear();
    std::map<std::string, int> seen;
    for (const exp::RunRecord& r : store_->runs())
      for (const auto& [k, v] : exp::run_fields(r)) seen[k] = 1;
    const std::vector<std::string> varying = exp::varying_fields(store_->runs());
    for (const std::string& f : varying) x_field_->addItem(QString::fromStdString(f));
    for (const auto& [k, _] : seen)
      if (std::find(varying.begin(), varying.end(), k) == varying.end()) x_field_->addItem(QString::fromStdString(k));
    for (const std::string& m : store_->scalar_names()) y_metric_->addItem(QString::fromStdString(m));
    for (const std::string& m : store_->head_metric_names())
      y_metric_->addItem(QString::fromStdString(m + " (mean over heads)"));
    x_field_->blockSignals(false);
    y_metric_->blockSignals(false);
    refresh();
  } catch (const std::exception& e) {
    emit failed(QString("cannot open the store '%1': %2").arg(path, e.what()));
  }
}

void SweepBrowser::set_filter(const QString& text) {
  filter_->setText(text);
  refresh();
}

void SweepBrowser::set_axes(const QString& field, const QString& metric) {
  x_field_->setCurrentText(field);
  y_metric_->setCurrentText(metric);
  replot();
}

void SweepBrowser::refresh() {
  if (!store_) return;
  try {
    std::vector<exp::Filter> filters;
    std::istringstream in(filter_->text().toStdString());
    std::string word;
    while (in >> word) filters.push_back(exp::parse_filter(word));
    runs_ = exp::select_runs(*store_, filters);
  } catch (const std::exception& e) {
    status_->setText(QString("Filter: %1").arg(e.what()));
    return;
  }
  fields_ = exp::varying_fields(store_->runs());
  QStringList header = {"run", "status", "step"};
  for (const auto& f : fields_) header << QString::fromStdString(f);
  header << "final metric";  // the y metric's value, filled by replot
  table_->clear();
  table_->setColumnCount(header.size());
  table_->setHorizontalHeaderLabels(header);
  table_->setRowCount(int(runs_.size()));
  for (int i = 0; i < int(runs_.size()); ++i) {
    const exp::RunRecord& r = runs_[i];
    table_->setItem(i, 0, new QTableWidgetItem(QString::fromStdString(r.id)));
    table_->setItem(i, 1, new QTableWidgetItem(QString::fromStdString(r.status)));
    table_->setItem(i, 2, new QTableWidgetItem(QString::number(r.step)));
    for (int f = 0; f < int(fields_.size()); ++f) {
      std::string v;
      try {
        v = exp::field_value(r, fields_[f]);
      } catch (...) {
      }
      table_->setItem(i, 3 + f, new QTableWidgetItem(QString::fromStdString(v)));
    }
  }
  table_->resizeColumnsToContents();
  status_->setText(QString("%1 of %2 runs").arg(runs_.size()).arg(store_->runs().size()));
  replot();
}

void SweepBrowser::replot() {
  plot_->clearGraphs();
  plotted_.clear();
  if (!store_ || runs_.empty() || x_field_->currentText().isEmpty() || y_metric_->currentText().isEmpty()) {
    plot_->replot();
    return;
  }
  const std::string field = x_field_->currentText().toStdString();
  std::string metric = y_metric_->currentText().toStdString();
  const std::string head_suffix = " (mean over heads)";
  const bool per_head = metric.size() > head_suffix.size() &&
                        metric.compare(metric.size() - head_suffix.size(), head_suffix.size(), head_suffix) == 0;
  if (per_head) metric.resize(metric.size() - head_suffix.size());
  std::map<std::string, double> categories;
  bool numeric = true;
  for (const exp::RunRecord& r : runs_) {
    std::string x;
    try {
      x = exp::field_value(r, field);
    } catch (...) {
      continue;
    }
    double y = 0;
    bool have = false;
    if (per_head) {
      const auto rows = store_->head_metrics(r.id, metric);
      int64_t last = -1;
      for (const auto& h : rows) last = std::max(last, h.step);
      double sum = 0;
      int n = 0;
      for (const auto& h : rows)
        if (h.step == last) sum += h.value, ++n;
      if (n) y = sum / n, have = true;
    } else {
      const auto rows = store_->scalars(r.id, metric);
      if (!rows.empty()) y = rows.back().value, have = true;
    }
    if (!have) continue;
    bool ok = false;
    QString::fromStdString(x).toDouble(&ok);
    numeric = numeric && ok;
    categories[x] = 0;
    plotted_.push_back({r.id, x, QString::number(y, 'g', 8).toStdString()});
  }
  QSharedPointer<QCPAxisTickerText> text_ticker(new QCPAxisTickerText);
  if (!numeric) {
    int i = 0;
    for (auto& [name, pos] : categories) {
      pos = i;
      text_ticker->addTick(i++, wrap_category(name));
    }
    plot_->xAxis->setTicker(text_ticker);
    // Many categories: rotated so neighbours never overlap.
    plot_->xAxis->setTickLabelRotation(categories.size() > 4 ? -35 : 0);
  } else {
    plot_->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    plot_->xAxis->setTickLabelRotation(0);
  }
  // The table's metric column shows the plotted value of each run.
  const int metric_col = table_->columnCount() - 1;
  if (metric_col >= 0) {
    table_->setHorizontalHeaderItem(metric_col, new QTableWidgetItem(y_metric_->currentText()));
    for (int i = 0; i < int(runs_.size()); ++i) {
      QString v = "–";
      for (const auto& p : plotted_)
        if (p[0] == runs_[size_t(i)].id)
          v = QString::number(QString::fromStdString(p[2]).toDouble(), 'g', 4);
      table_->setItem(i, metric_col, new QTableWidgetItem(v));
    }
  }
  QCPGraph* g = plot_->addGraph();
  g->setLineStyle(QCPGraph::lsNone);
  g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, accent_color(), accent_color(), 7));
  for (const auto& p : plotted_) {
    const double x = numeric ? QString::fromStdString(p[1]).toDouble() : categories[p[1]];
    g->addData(x, QString::fromStdString(p[2]).toDouble());
  }
  plot_->xAxis->setLabel(QString::fromStdString(field));
  plot_->yAxis->setLabel(y_metric_->currentText());
  g->rescaleAxes();
  if (!numeric) plot_->xAxis->setRange(-0.5, categories.size() - 0.5);
  else
    plot_->xAxis->scaleRange(1.2, plot_->xAxis->range().center());
  double lo = 1e300, hi = -1e300;
  for (const auto& p : plotted_) {
    const double v = QString::fromStdString(p[2]).toDouble();
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo <= hi) {
    const QCPRange y = sweep_y_range(lo, hi);
    plot_->yAxis->setRange(y.lower, y.upper);
  }
  style_plot(plot_);
  plot_->replot();
}

QCPRange sweep_y_range(double lo, double hi) {
  // Values of one sign whose spread is small next to their size (a single run, or runs that
  // agree): the axis starts at 0, so a value reads as a size and not as a +-0.003 wiggle.
  if (lo >= 0 && hi > 0 && hi - lo < 0.5 * hi) return QCPRange(0, hi * 1.15);
  if (hi <= 0 && lo < 0 && hi - lo < 0.5 * -lo) return QCPRange(lo * 1.15, 0);
  const double pad = std::max(0.1 * (hi - lo), 1e-9);
  return QCPRange(lo - pad, hi + pad);
}

QString SweepBrowser::csv() const {
  QString out = QString("run,%1,%2\n").arg(x_field_->currentText(), y_metric_->currentText());
  for (const auto& p : plotted_)
    out += QString("%1,\"%2\",%3\n").arg(QString::fromStdString(p[0]), QString::fromStdString(p[1]), QString::fromStdString(p[2]));
  return out;
}

}  // namespace attnlab::gui
