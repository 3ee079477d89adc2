#include "gui/head_dashboard.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/tensor/error.h"
#include "datasets/task_registry.h"
#include "gui/job_runner.h"
#include "gui/token_chips.h"

namespace attnlab::gui {
namespace {
constexpr int kContext = 24;  // tokens of context shown before each query
}

HeadDashboard::HeadDashboard(QWidget* parent) : QWidget(parent) {
  jobs_ = new JobRunner(this);
  header_ = new QLabel("Head dashboard: open a model and select a head");
  header_->setStyleSheet("font-weight: bold;");
  source_box_ = new QComboBox;
  source_box_->setEditable(true);
  source_box_->setToolTip("A text file (path, or relative to the shared folder) or a task spec");
  for (const char* f : {"corpora/tinyshakespeare/input.txt", "corpora/gutenberg/pg11.txt",
                        "corpora/gutenberg/jekyll.txt"})
    source_box_->addItem(f);
  for (const TaskInfo& t : task_catalog()) source_box_->addItem(QString::fromStdString(t.name));
  metric_box_ = new QComboBox;
  for (const std::string& m : row_metric_names()) metric_box_->addItem(QString::fromStdString(m));
  metric_box_->setToolTip("Rows ranked by this metric");
  order_box_ = new QComboBox;
  order_box_->addItems({"largest first", "smallest first"});
  order_box_->setToolTip("Smallest first: the most focused rows by entropy, the rows that ignore "
                         "the first token by sink mass");
  windows_box_ = new QSpinBox;
  windows_box_->setRange(1, 100000);
  windows_box_->setValue(32);
  windows_box_->setPrefix("windows ");
  top_box_ = new QSpinBox;
  top_box_->setRange(1, 200);
  top_box_->setValue(12);
  top_box_->setPrefix("top ");
  scan_button_ = new QPushButton("Scan");
  cancel_button_ = new QPushButton("Cancel");
  cancel_button_->setEnabled(false);
  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);
  progress_->setValue(0);
  summary_ = new QLabel("Pick a source and a metric, then Scan.");
  summary_->setWordWrap(true);
  legend_ = new QLabel;
  legend_->setTextFormat(Qt::RichText);
  list_ = new QWidget;
  list_layout_ = new QVBoxLayout(list_);
  list_layout_->addStretch(1);
  auto* scroll = new QScrollArea;
  scroll->setWidget(list_);
  scroll->setWidgetResizable(true);

  connect(scan_button_, &QPushButton::clicked, this, &HeadDashboard::start_scan);
  connect(cancel_button_, &QPushButton::clicked, this, &HeadDashboard::cancel);
  connect(jobs_, &JobRunner::progress, this,
          [this](double f) { progress_->setValue(int(f * 1000)); });
  connect(jobs_, &JobRunner::started, this, [this] {
    progress_->setValue(0);
    cancel_button_->setEnabled(true);
  });
  connect(jobs_, &JobRunner::idle, this, [this] { cancel_button_->setEnabled(false); });

  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel("Source"));
  row->addWidget(source_box_, 2);
  row->addWidget(new QLabel("Metric"));
  row->addWidget(metric_box_, 1);
  row->addWidget(order_box_);
  row->addWidget(windows_box_);
  row->addWidget(top_box_);
  row->addWidget(scan_button_);
  row->addWidget(cancel_button_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(header_);
  layout->addLayout(row);
  layout->addWidget(progress_);
  layout->addWidget(summary_);
  layout->addWidget(legend_);
  layout->addWidget(scroll, 1);
}

void HeadDashboard::set_model(std::shared_ptr<Transformer> model,
                              std::shared_ptr<const TokenCodec> codec, int bos) {
  jobs_->cancel();
  model_ = std::move(model);
  codec_ = std::move(codec);
  bos_ = bos;
  show_scan({}, "");
}

void HeadDashboard::set_head(int layer, int head) {
  if (layer == layer_ && head == head_ && model_) return;
  layer_ = layer;
  head_ = head;
  header_->setText(QString("Head dashboard · L%1 H%2").arg(layer).arg(head));
}

void HeadDashboard::set_metric(RowMetric m) { metric_box_->setCurrentIndex(int(m)); }
void HeadDashboard::set_lowest_first(bool on) { order_box_->setCurrentIndex(on ? 1 : 0); }
void HeadDashboard::set_source(const QString& source) { source_box_->setCurrentText(source); }
void HeadDashboard::set_windows(int n) { windows_box_->setValue(n); }
void HeadDashboard::cancel() { jobs_->cancel(); }
bool HeadDashboard::wait_idle(int timeout_ms) { return jobs_->wait_idle(timeout_ms); }

QString HeadDashboard::token_label(int32_t id) const {
  return codec_ ? QString::fromStdString(display_label(codec_->piece(id))) : QString::number(id);
}

void HeadDashboard::start_scan() {
  if (!model_) return;
  const std::string source = source_box_->currentText().trimmed().toStdString();
  const RowMetric metric = RowMetric(metric_box_->currentIndex());
  const bool lowest = order_box_->currentIndex() == 1;
  const int windows = windows_box_->value(), top = top_box_->value(), layer = layer_, head = head_;
  const int window = std::min(model_->config().context, 128);
  auto model = model_;
  auto codec = codec_;
  const int bos = bos_;
  const bool is_task =
      source.find('/') == std::string::npos && source.find(".txt") == std::string::npos;
  auto out = std::make_shared<DashboardScan>();
  const QString what = QString("L%1 H%2 · %3 (%4) · %5")
                           .arg(layer)
                           .arg(head)
                           .arg(metric_box_->currentText())
                           .arg(order_box_->currentText())
                           .arg(QString::fromStdString(source));
  summary_->setText("Scanning " + what + "…");
  error_.clear();
  jobs_->submit(
      "Dashboard scan",
      [=](JobControl& c) {
        WindowSource src =
            is_task ? task_windows(source, window)
                    : text_windows(
                          source, [codec](const std::string& s) { return codec->encode(s); },
                          window, bos);
        *out = scan_head(model, layer, head, src, windows, metric, top, kContext, &c.cancel,
                         c.progress, lowest);
      },
      [this, out, what, model](const QString& error, bool cancelled) {
        if (model != model_) return;
        if (cancelled) return summary_->setText("Scan cancelled.");
        if (!error.isEmpty()) {
          error_ = error;
          return summary_->setText("<span style='color:#b00020'>" + error.toHtmlEscaped() +
                                   "</span>");
        }
        show_scan(std::move(*out), what);
      });
}

void HeadDashboard::show_scan(DashboardScan scan, const QString& what) {
  scan_ = std::move(scan);
  while (list_layout_->count() > 1) {
    QLayoutItem* item = list_layout_->takeAt(0);
    delete item->widget();
    delete item;
  }
  legend_->clear();
  if (what.isEmpty()) {
    summary_->setText("Pick a source and a metric, then Scan.");
    return;
  }
  summary_->setText(QString("%1: the %2 most extreme of %3 rows in %4 windows")
                        .arg(what)
                        .arg(scan_.hits.size())
                        .arg(scan_.rows)
                        .arg(scan_.windows));
  legend_->setText(
      TokenChips::legend_html(1.0,
                              "the weight the query (outlined red) gives each earlier token, "
                              "scaled per row")
          .replace(">1<", ">row max<"));
  for (size_t i = 0; i < scan_.hits.size(); ++i) {
    const DashboardHit& h = scan_.hits[i];
    auto* box = new QWidget;
    auto* v = new QVBoxLayout(box);
    v->setContentsMargins(0, 2, 0, 6);
    auto* title = new QLabel(QString("#%1 · %2 = %3 · window %4, query %5 «%6»")
                                 .arg(i + 1)
                                 .arg(metric_box_->currentText())
                                 .arg(h.score, 0, 'f', 3)
                                 .arg(h.window)
                                 .arg(h.t)
                                 .arg(token_label(h.context.back())));
    auto* chips = new TokenChips;
    QStringList labels;
    for (size_t k = 0; k < h.context.size(); ++k)
      labels << QString("%1").arg(token_label(h.context[k]));
    chips->set_tokens(labels);
    chips->set_weights(std::vector<double>(h.weights.begin(), h.weights.end()));
    chips->set_selected(int(h.context.size()) - 1);
    v->addWidget(title);
    v->addWidget(chips);
    list_layout_->insertWidget(list_layout_->count() - 1, box);
  }
}

int HeadDashboard::shown_hits() const { return list_layout_->count() - 1; }

QString HeadDashboard::csv() const {
  QString out = "rank,window,query,score,context\n";
  for (size_t i = 0; i < scan_.hits.size(); ++i) {
    const DashboardHit& h = scan_.hits[i];
    QString ctx;
    for (int32_t id : h.context) ctx += token_label(id) + " ";
    out += QString("%1,%2,%3,%4,\"%5\"\n")
               .arg(i + 1)
               .arg(h.window)
               .arg(h.t)
               .arg(h.score, 0, 'g', 8)
               .arg(ctx.trimmed().replace("\"", "\"\""));
  }
  return out;
}

}  // namespace attnlab::gui
