#include "gui/model_view.h"

#include <qcustomplot.h>

#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "gui/color_lut.h"
#include "gui/job_runner.h"
#include "gui/map_statistics.h"
#include "gui/map_tile.h"
#include "gui/plot_style.h"

namespace attnlab::gui {
namespace {
constexpr int kGap = 3;  // white pixels between thumbnails in the mosaic
constexpr int kMaxSide = 64;
}  // namespace

ModelThumbnails compute_thumbnails(const CapturedForward& run, int max_side, bool log,
                                   const std::atomic<bool>* cancel,
                                   const std::function<void(double)>& progress) {
  ModelThumbnails out;
  out.n_layers = run.n_layers();
  out.n_heads = run.n_heads();
  out.T = run.T();
  const int f = std::max(1, (out.T + max_side - 1) / max_side);
  out.side = (out.T + f - 1) / f;
  std::vector<MapTile> tiles;
  const int n = out.n_layers * out.n_heads;
  for (int l = 0; l < out.n_layers; ++l)
    for (int h = 0; h < out.n_heads; ++h) {
      if (cancel && cancel->load()) throw Cancelled{};
      MapTileRequest r;
      r.layer = l, r.head = h, r.t0 = 0, r.t1 = out.T, r.j0 = 0, r.j1 = out.T,
      r.pool_rows = r.pool_cols = f;
      TilePooler pool(r);
      ScaleTopSampler top(out.T);
      std::vector<float> padded(size_t(out.T), 0.0f);  // the pooler reads whole rows, 0 past t
      run.stream_rows(l, h, [&](int t, const float* row) {
        std::copy(row, row + t + 1, padded.begin());
        pool.add_row(t, padded.data());
        top.add_row(t, row);
      });
      tiles.push_back(pool.take());
      out.head_top.push_back(top.top());
      if (progress) progress(0.95 * double(l * out.n_heads + h + 1) / n);
    }
  out.scale = scale_with_top(*std::max_element(out.head_top.begin(), out.head_top.end()), log);
  for (const MapTile& t : tiles) out.images.push_back(build_tile_image(t, out.scale));
  return out;
}

ModelView::ModelView(QWidget* parent) : QWidget(parent) {
  jobs_ = new JobRunner(this);
  plot_ = new QCustomPlot(this);
  plot_->setMinimumSize(300, 300);
  const LayerHeadPlot parts = setup_layer_head_plot(plot_, "Model view: open a model and type a prompt");
  title_ = parts.title;
  scale_ = parts.scale;
  mosaic_ = new QCPItemPixmap(plot_);
  mosaic_->setScaled(true, Qt::IgnoreAspectRatio, Qt::FastTransformation);
  mosaic_->setClipToAxisRect(true);
  mosaic_->setVisible(false);
  selection_ = new QCPItemRect(plot_);  // after the mosaic, so it draws on top
  selection_->setPen(QPen(QColor(0xd6, 0x27, 0x28), 2.5));
  selection_->setBrush(Qt::NoBrush);
  selection_->setVisible(false);
  plot_->setMouseTracking(true);
  connect(plot_, &QCustomPlot::mousePress, this, [this](QMouseEvent* ev) {
    int l, h;
    if (!cell_at(ev->position(), l, h)) return;
    if (ev->modifiers() & Qt::ControlModifier)
      emit compare_clicked(l, h);
    else
      emit head_clicked(l, h);
  });
  connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* ev) {
    int l, h;
    if (!cell_at(ev->position(), l, h)) return QToolTip::hideText();
    QToolTip::showText(
        ev->globalPosition().toPoint(),
        QString("L%1 H%2 · its own scale would top at %3 · click to open, Ctrl+click to compare")
            .arg(l)
            .arg(h)
            .arg(thumbs_.head_top[size_t(l * thumbs_.n_heads + h)], 0, 'g', 3),
        plot_);
  });

  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);
  progress_->setTextVisible(false);
  progress_->hide();
  cancel_ = new QPushButton("Cancel");
  cancel_->hide();
  connect(cancel_, &QPushButton::clicked, jobs_, &JobRunner::cancel);
  connect(jobs_, &JobRunner::started, this, [this] {
    progress_->setValue(0);
    progress_->show();
    cancel_->show();
  });
  connect(jobs_, &JobRunner::progress, this,
          [this](double f) { progress_->setValue(int(f * 1000)); });
  connect(jobs_, &JobRunner::idle, this, [this] {
    progress_->hide();
    cancel_->hide();
  });
  status_ = new QLabel(
      "Every head's pattern on one colour scale · click a head to open it · Ctrl+click: compare");
  status_->setStyleSheet("color: #666;");
  auto* bottom = new QHBoxLayout;
  bottom->addWidget(status_, 1);
  bottom->addWidget(progress_);
  bottom->addWidget(cancel_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_, 1);
  layout->addLayout(bottom);
}

void ModelView::clear() {
  jobs_->cancel();
  run_.reset();
  thumbs_ = ModelThumbnails{};
  mosaic_->setVisible(false);
  selection_->setVisible(false);
  title_->setText("Model view: open a model and type a prompt");
  plot_->replot();
}

void ModelView::set_source(std::shared_ptr<const CapturedForward> run) {
  run_ = std::move(run);
  recompute();
}

void ModelView::set_log_scale(bool log) {
  if (log == log_) return;
  log_ = log;
  recompute();
}

void ModelView::recompute() {
  if (!run_) return clear();
  auto run = run_;
  const bool log = log_;
  auto out = std::make_shared<ModelThumbnails>();
  title_->setText(
      QString("Model view · computing %1 heads…").arg(run->n_layers() * run->n_heads()));
  plot_->replot();
  jobs_->submit(
      "Model view",
      [run, log, out](JobControl& c) {
        *out = compute_thumbnails(*run, kMaxSide, log, &c.cancel, c.progress);
      },
      [this, run, out](const QString& error, bool cancelled) {
        if (run != run_) return;
        if (cancelled || !error.isEmpty()) {
          title_->setText(cancelled ? "Model view · cancelled" : "Model view · " + error);
          plot_->replot();
          return;
        }
        show_thumbnails(std::move(*out));
      });
}

void ModelView::show_thumbnails(ModelThumbnails t) {
  thumbs_ = std::move(t);
  const int L = thumbs_.n_layers, H = thumbs_.n_heads, s = thumbs_.side;
  QImage mosaic(H * (s + kGap) - kGap, L * (s + kGap) - kGap, QImage::Format_RGB32);
  mosaic.fill(Qt::white);
  {
    QPainter p(&mosaic);
    for (int l = 0; l < L; ++l)
      for (int h = 0; h < H; ++h) p.drawImage(h * (s + kGap), l * (s + kGap), thumbs_.at(l, h));
  }
  // Each head spans one axis unit; the gaps are inside the units, so the mosaic fills
  // [-0.5, H - 0.5] x [-0.5, L - 0.5] with the gap split at both ends.
  const double gx = double(kGap) / (2 * (s + kGap)), gy = gx;
  mosaic_->setPixmap(QPixmap::fromImage(mosaic));
  mosaic_->topLeft->setCoords(-0.5 + gx, -0.5 + gy);
  mosaic_->bottomRight->setCoords(H - 0.5 - gx, L - 0.5 - gy);
  mosaic_->setVisible(true);
  plot_->xAxis->setRange(-0.5, H - 0.5);
  plot_->yAxis->setRange(-0.5, L - 0.5);
  for (auto [axis, n] : {std::pair{plot_->xAxis, H}, std::pair{plot_->yAxis, L}}) {
    QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
    const int step = n <= 32 ? 1 : (n + 15) / 16;
    for (int i = 0; i < n; i += step) ticks->addTick(i, QString::number(i));
    axis->setTicker(ticks);
  }
  const ColorScale& sc = thumbs_.scale;
  scale_->setDataScaleType(sc.log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  scale_->setDataRange(QCPRange(sc.lo, sc.hi));
  scale_->axis()->setLabel(QString("weight, one scale for all heads (%1, clipped at %2)")
                               .arg(sc.log ? "log" : "linear")
                               .arg(sc.hi, 0, 'g', 2));
  title_->setText(QString("Model view · %1 layers × %2 heads · %3 tokens · max-pooled to %4 px")
                      .arg(L)
                      .arg(H)
                      .arg(thumbs_.T)
                      .arg(s));
  plot_->replot();
}

void ModelView::mark_selected(int layer, int head) {
  mark_layer_head(selection_, layer, head);
  plot_->replot();
}

bool ModelView::cell_at(const QPointF& pos, int& layer, int& head) const {
  return layer_head_at(plot_, pos, thumbs_.n_layers, thumbs_.n_heads, layer, head);
}

QPoint ModelView::cell_center(int layer, int head) const { return layer_head_center(plot_, layer, head); }

bool ModelView::wait_idle(int timeout_ms) { return jobs_->wait_idle(timeout_ms); }

QString ModelView::csv() const {
  QString out = "layer,head,own_scale_top\n";
  for (int l = 0; l < thumbs_.n_layers; ++l)
    for (int h = 0; h < thumbs_.n_heads; ++h)
      out += QString("%1,%2,%3\n")
                 .arg(l)
                 .arg(h)
                 .arg(thumbs_.head_top[size_t(l * thumbs_.n_heads + h)], 0, 'g', 8);
  return out;
}

}  // namespace attnlab::gui
