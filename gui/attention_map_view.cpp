#include "gui/attention_map_view.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPushButton>
#include <QThread>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "experiments/figures/paper_style.h"
#include "gui/cell_outlines.h"
#include "gui/color_lut.h"
#include "gui/map_tile_loader.h"
#include "gui/pattern_plottable.h"
#include "gui/plot_style.h"
#include "gui/token_axis.h"

namespace attnlab::gui {
namespace {

const char* kHint = "Hover for weights · wheel zooms · drag pans · click a row to show that query in the token view";

// The map, its entropy column (right), alpha_k row (below) and colour bar, placed by hand so
// the map is square (square cells) at whatever size the widget or an export gives, centred in
// the space; inner rects line up (the map's rows with the entropy panel and the colour bar, its
// columns with alpha_k). Compact: the map and colour bar only (a comparison's three panels).
class SquareMapGrid : public QCPLayoutGrid {
 public:
  SquareMapGrid(QCPLayoutElement* title, QCPAxisRect* map, QCPAxisRect* right, QCPAxisRect* below,
                QCPColorScale* scale)
      : title_(title), map_(map), right_(right), below_(below), scale_(scale) {}
  bool compact = false;
  bool colour_bar = true;  // false: a figure panel whose colour bar another panel draws
  int bar_label_lines = 2;

 protected:
  void updateLayout() override {
    // The title on top, then the square map and its panels in what is left.
    const int th = title_->minimumOuterSizeHint().height();
    title_->setOuterRect(QRect(rect().left(), rect().top(), rect().width(), th));
    const QRect R = rect().adjusted(0, th, 0, 0);
    const QMargins m = map_->margins(), r = right_->margins(), b = below_->margins(),
                   c = scale_->margins();
    const int cs = columnSpacing() + 4, rs = rowSpacing();
    // The colour bar's width from its fonts, not its current labels: A, B and A - B (whose
    // ticks read "<=-0.76") get the same width and so the same map size.
    const QFontMetrics tick(scale_->axis()->tickLabelFont()), label(scale_->axis()->labelFont());
    const int cw =
        colour_bar ? scale_->barWidth() + tick.horizontalAdvance("≤−0.00") + bar_label_lines * label.height() + 10 : 0;
    // The bar itself takes its own width, bar plus its labels, as the colour scale reports it
    // after a first layout (a wider rect widens the bar, a narrower one squeezes it out).
    const int own = scale_->maximumSize().width() + c.left() + c.right();
    const int bar_w = own > 0 && own < QWIDGETSIZE_MAX / 2 ? own : cw;
    const int L = compact ? m.left() : std::max(m.left(), b.left());
    const int Rm = compact ? m.right() : std::max(m.right(), b.right());
    const int Bm = compact ? m.bottom() : std::max(m.bottom(), r.bottom());
    constexpr double kSide = 0.16, kUnder = 0.2;  // side panels as fractions of the map's side
    const double side = compact ? 0 : kSide, under = compact ? 0 : kUnder;
    const int fixed_w = L + Rm + (colour_bar ? cs + cw : 0) + (compact ? 0 : cs + r.left() + r.right());
    const int fixed_h = m.top() + Bm + (compact ? 0 : rs + b.top() + b.bottom());
    const int s = std::max(
        8, int(std::min((R.width() - fixed_w) / (1 + side), (R.height() - fixed_h) / (1 + under))));
    const int sw = compact ? 0 : std::max(10, int(s * kSide)),
              sh = compact ? 0 : std::max(10, int(s * kUnder));
    const int used_w = fixed_w + s + sw;
    const int x0 = R.left() + std::max(0, (R.width() - used_w) / 2), y0 = R.top();
    const QRect map_inner(x0 + L, y0 + m.top(), s, s);
    map_->setOuterRect(map_inner.adjusted(-m.left(), -m.top(), m.right(), m.bottom()));
    int x = map_inner.right() + 1 + Rm + cs;
    right_->setVisible(!compact);
    below_->setVisible(!compact);
    if (!compact) {
      const QRect right_inner(x + r.left(), map_inner.top(), sw, s);
      right_->setOuterRect(right_inner.adjusted(-r.left(), -r.top(), r.right(), r.bottom()));
      x = right_inner.right() + 1 + r.right() + cs;
      const QRect below_inner(map_inner.left(), map_inner.bottom() + 1 + Bm + rs + b.top(), s, sh);
      below_->setOuterRect(below_inner.adjusted(-b.left(), -b.top(), b.right(), b.bottom()));
    } else {
      right_->setOuterRect(QRect(x, map_inner.top(), 0, 0));
      below_->setOuterRect(QRect(map_inner.left(), map_inner.bottom(), 0, 0));
    }
    scale_->setVisible(colour_bar);
    scale_->setOuterRect(QRect(x, map_inner.top() - c.top(), colour_bar ? bar_w : 0, s + c.top() + c.bottom()));
  }

 private:
  QCPLayoutElement* title_;
  QCPAxisRect* map_;
  QCPAxisRect* right_;
  QCPAxisRect* below_;
  QCPColorScale* scale_;
};

QString fmt(double v) { return QString::number(v, 'g', 2); }

// Ticks of a colour bar: round values inside the range and the range's ends, the clipped end
// marked with >= (weights beyond it saturate), so the bar says where its colours stop.
QMap<double, QString> color_bar_ticks(const ColorScale& s, bool diverging) {
  QMap<double, QString> ticks;
  if (diverging) {
    ticks.insert(-s.hi, "≤−" + fmt(s.hi));
    ticks.insert(0, "0");
    ticks.insert(s.hi, "≥" + fmt(s.hi));
    return ticks;
  }
  if (s.log) {
    for (int e = int(std::ceil(std::log10(s.lo))); std::pow(10.0, e) < s.hi * 0.6; ++e)
      ticks.insert(std::pow(10.0, e), QString("1e%1").arg(e));
  } else {
    const double raw = s.hi / 3, p = std::pow(10.0, std::floor(std::log10(raw)));
    const double step = raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
    for (double v = 0; v < s.hi * 0.8; v += step) ticks.insert(v, fmt(v));
  }
  ticks.insert(s.hi, "≥" + fmt(s.hi));
  return ticks;
}

QCPRange clamp_range(const QCPRange& r, double lo, double hi) {
  QCPRange out = r;
  if (out.size() > hi - lo) return QCPRange(lo, hi);
  if (out.lower < lo) out = QCPRange(lo, lo + r.size());
  if (out.upper > hi) out = QCPRange(hi - r.size(), hi);
  return out;
}

}  // namespace

AttentionMapView::AttentionMapView(QWidget* parent) : QWidget(parent) {
  plot_ = new QCustomPlot(this);
  plot_->setMinimumSize(280, 300);
  plot_->plotLayout()->clear();
  title_ = new QCPTextElement(plot_, "no head selected", title_font());
  map_rect_ = new QCPAxisRect(plot_);
  entropy_rect_ = new QCPAxisRect(plot_);
  alpha_rect_ = new QCPAxisRect(plot_);
  color_scale_ = new QCPColorScale(plot_);
  // The title, map, side panels and colour bar in one hand-placed grid (SquareMapGrid).
  auto* grid = new SquareMapGrid(title_, map_rect_, entropy_rect_, alpha_rect_, color_scale_);
  square_grid_ = grid;
  plot_->plotLayout()->addElement(0, 0, grid);
  grid->addElement(2, 0, title_);
  grid->addElement(0, 0, map_rect_);
  grid->addElement(0, 1, entropy_rect_);
  grid->addElement(0, 2, color_scale_);
  grid->addElement(1, 0, alpha_rect_);
  grid->setRowSpacing(2);
  grid->setColumnSpacing(4);

  QCPAxis* key_axis = map_rect_->axis(QCPAxis::atTop);
  QCPAxis* query_axis = map_rect_->axis(QCPAxis::atLeft);
  map_rect_->axis(QCPAxis::atBottom)->setVisible(false);
  map_rect_->axis(QCPAxis::atRight)->setVisible(false);
  key_axis->setVisible(true);
  key_axis->setTickLabelRotation(-90);
  key_axis->setLabel("key");
  query_axis->setLabel("query");
  query_axis->setRangeReversed(true);
  for (QCPAxis* a : {key_axis, query_axis}) {
    style_axis(a);
    a->grid()->setVisible(false);
    a->setSubTicks(false);
    a->setTicker(QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText));
  }
  map_ = new PatternPlottable(key_axis, query_axis);
  overlay_ = new CellOutlines(key_axis, query_axis);
  hover_cell_ = new QCPItemRect(plot_);
  hover_cell_->setPen(QPen(QColor(0xff, 0x7f, 0x0e), 2.0));
  hover_cell_->setBrush(Qt::NoBrush);
  hover_row_ = new QCPItemStraightLine(plot_);
  hover_col_ = new QCPItemStraightLine(plot_);
  for (QCPItemStraightLine* l : {hover_row_, hover_col_})
    l->setPen(QPen(QColor(255, 255, 255, 150), 1.0, Qt::DashLine));
  for (QCPAbstractItem* item :
       {static_cast<QCPAbstractItem*>(hover_cell_), static_cast<QCPAbstractItem*>(hover_row_),
        static_cast<QCPAbstractItem*>(hover_col_)}) {
    item->setClipAxisRect(map_rect_);
    for (QCPItemPosition* pos : item->positions()) pos->setAxes(key_axis, query_axis);
    item->setVisible(false);
  }
  loader_ = new MapTileLoader(this);
  connect(loader_, &MapTileLoader::overview_ready, this, &AttentionMapView::show_overview);
  connect(loader_, &MapTileLoader::tile_ready, this, &AttentionMapView::show_tile);
  connect(loader_, &MapTileLoader::failed, this, &AttentionMapView::failed);
  tile_timer_ = new QTimer(this);
  tile_timer_->setSingleShot(true);
  tile_timer_->setInterval(60);
  connect(tile_timer_, &QTimer::timeout, this, &AttentionMapView::request_tile);
  map_rect_->setRangeDrag(Qt::Horizontal | Qt::Vertical);
  map_rect_->setRangeZoom(Qt::Horizontal | Qt::Vertical);
  map_rect_->setRangeDragAxes(key_axis, query_axis);
  map_rect_->setRangeZoomAxes(key_axis, query_axis);
  map_rect_->setBackground(QBrush(QColor(masked_cell_rgb())));

  QCPAxis* alpha_x = alpha_rect_->axis(QCPAxis::atBottom);
  QCPAxis* alpha_y = alpha_rect_->axis(QCPAxis::atLeft);
  alpha_x->setLabel("key position");
  {  // positions are whole numbers: ticks at multiples of 1, 2, 5, 10, ... as the range allows
    QSharedPointer<QCPAxisTickerFixed> t(new QCPAxisTickerFixed);
    t->setTickStep(1);
    t->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    alpha_x->setTicker(t);
  }
  alpha_y->setLabel("α_k");
  alpha_y->ticker()->setTickCount(2);  // the panel is a fifth of the map: more ticks collide
  alpha_bars_ = new QCPBars(alpha_x, alpha_y);
  alpha_bars_->setWidthType(QCPBars::wtPlotCoords);
  alpha_bars_->setWidth(1.0);
  alpha_bars_->setPen(Qt::NoPen);
  alpha_bars_->setBrush(accent_color());

  QCPAxis* ent_query = entropy_rect_->axis(QCPAxis::atLeft);
  QCPAxis* ent_value = entropy_rect_->axis(QCPAxis::atBottom);
  ent_query->setRangeReversed(true);
  ent_query->setTickLabels(false);
  ent_value->setLabel("entropy");
  ent_value->setRange(0, 1.05);
  ent_value->ticker()->setTickCount(2);
  entropy_graph_ = new QCPGraph(ent_query, ent_value);
  entropy_graph_->setPen(QPen(accent_color(), 1.2));
  for (QCPAxisRect* r : {alpha_rect_, entropy_rect_}) {
    r->setRangeDrag(Qt::Orientations());
    r->setRangeZoom(Qt::Orientations());
    for (QCPAxis* a : r->axes()) style_axis(a);
  }

  color_scale_->setType(QCPAxis::atRight);
  color_scale_->setGradient(viridis_gradient());
  color_scale_->setBarWidth(10);
  color_scale_->setRangeDrag(false);
  color_scale_->setRangeZoom(false);
  style_axis(color_scale_->axis());

  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->setMouseTracking(true);
  // Which labels fit depends on the laid-out axis length, known only after the layout pass;
  // when that changes the labels, draw once more (it settles in one extra replot).
  connect(plot_, &QCustomPlot::afterLayout, this, [this] {
    const bool ticks = update_ticks(), bar = update_bar_label();
    if (ticks || bar) plot_->replot(QCustomPlot::rpQueuedReplot);
  });
  plot_->installEventFilter(this);

  connect(key_axis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this](const QCPRange& r) {
    if (has_head()) {
      const QCPRange c = clamp_range(r, -0.5, cells() - 0.5);
      if (c != r) map_rect_->axis(QCPAxis::atTop)->setRange(c);
    }
    sync_side_ranges();
    if (long_T_) tile_timer_->start();
  });
  connect(query_axis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this](const QCPRange& r) {
    if (has_head()) {
      const QCPRange c = clamp_range(r, -0.5, cells() - 0.5);
      if (c != r) map_rect_->axis(QCPAxis::atLeft)->setRange(c);
    }
    sync_side_ranges();
    if (long_T_) tile_timer_->start();
  });
  connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* ev) {
    int t, j;
    if (!cell_at(ev->position(), t, j)) {
      QToolTip::hideText();
      if (hover_cell_->visible()) {
        set_crosshair(-1, -1);
        emit cell_hovered(-1, -1);
      }
      return;
    }
    set_crosshair(t, j);
    emit cell_hovered(t, j);
    const QString text = describe_cell(t, j);
    readout_->setText(text);
    QToolTip::showText(ev->globalPosition().toPoint(), text, plot_);
    emit hovered(text);
  });

  scale_box_ = new QComboBox;
  scale_box_->addItems({"linear colour scale", "log colour scale"});
  connect(scale_box_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int i) { set_log_scale(i == 1); });
  auto* fit = new QPushButton("Fit");
  fit->setToolTip("Show the whole map");
  connect(fit, &QPushButton::clicked, this, &AttentionMapView::reset_zoom);
  readout_ = new QLabel(kHint);
  readout_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  readout_->setWordWrap(true);
  readout_->setStyleSheet("color: #444;");
  // Sparse patterns (analysis/sparse/selector.h) whose kept keys the map outlines; any spec can
  // be typed.
  pattern_box_ = new QComboBox;
  pattern_box_->setEditable(true);
  pattern_box_->addItems({"no sparse pattern", "topk(k=8)", "window(size=8,sinks=1)",
                          "vertical_slash(v=4,s=4,last_q=8)", "block_topk(k=2,block=4,score=oracle)",
                          "quest(k=8,page=4)", "snapkv(k=12,obs=8,kernel=3,local=4,prefix=1)"});
  pattern_box_->setToolTip("Outline the keys a sparse-attention pattern keeps in each row (type any "
                           "spec, e.g. topk(k=16)); the head grid gains its recall per head");
  pattern_box_->setMinimumContentsLength(18);
  connect(pattern_box_, &QComboBox::textActivated, this, [this](const QString&) {
    emit pattern_requested(pattern_spec());
  });
  pattern_label_ = new QLabel;
  pattern_label_->setWordWrap(true);
  pattern_label_->setStyleSheet("color: #444;");
  pattern_label_->hide();
  auto* bar = new QHBoxLayout;
  bar->addWidget(scale_box_);
  bar->addWidget(fit);
  bar->addWidget(pattern_box_, 1);
  bar->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(bar);
  layout->addWidget(pattern_label_);
  layout->addWidget(plot_, 1);
  layout->addWidget(readout_);
  clear();
}

const QImage& AttentionMapView::image() const { return map_->image(); }

void AttentionMapView::set_tokens(const QStringList& labels) { labels_ = labels; }

int AttentionMapView::cells() const { return pattern_ ? pattern_->T : long_T_; }

bool AttentionMapView::wait_idle(int timeout_ms) {
  // Finishing a job can move the view (fit on a new overview), which queues another request on
  // the timer: wait until neither the timer nor the loader has anything left.
  QDeadlineTimer deadline(timeout_ms);
  do {
    while (tile_timer_->isActive()) {
      if (deadline.hasExpired()) return false;
      QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
      QThread::msleep(1);
    }
    if (!loader_->wait_idle(int(std::max<qint64>(1, deadline.remainingTime())))) return false;
  } while (tile_timer_->isActive());
  return true;
}

void AttentionMapView::clear() {
  pattern_.reset();
  loader_->close();
  long_T_ = 0;
  diff_ = false;
  map_->set_levels({});
  overlay_->set_rows({});
  set_crosshair(-1, -1);
  readout_->setText(kHint);
  alpha_bars_->data()->clear();
  entropy_graph_->data()->clear();
  title_->setText("No head selected: click a cell of the head grid");
  plot_->replot();
}

void AttentionMapView::set_pattern(std::shared_ptr<const HeadPattern> p, const QString& title) {
  if (!p) return clear();
  show_prepared(prepare_map(std::move(p), log_), title);
}

void AttentionMapView::show_prepared(const PreparedMap& m, const QString& title) {
  if (!m.pattern) return clear();
  const bool same_size = cells() == m.pattern->T;
  loader_->close();
  long_T_ = 0;
  diff_ = false;
  pattern_ = m.pattern;
  own_top_ = m.scale.hi;
  title_->setText(title);
  if (m.scale.log == log_ && (shared_top_ <= 0 || shared_top_ == m.scale.hi)) {
    map_->set_levels(m.levels);
    apply_scale(m.scale);
  } else {
    rebuild_image();  // the scale changed while it was being prepared
  }
  set_panels(m.alpha, m.entropy);
  if (!same_size) {
    reset_zoom();
  } else {
    sync_side_ranges();
    plot_->replot();
  }
}

void AttentionMapView::set_panels(const std::vector<double>& alpha, const std::vector<double>& entropy) {
  const int T = int(alpha.size());
  QVector<double> pos(T), a(T), e(T);
  double amax = 0;
  for (int i = 0; i < T; ++i) {
    pos[i] = i;
    a[i] = alpha[size_t(i)];
    e[i] = entropy[size_t(i)];
    amax = std::max(amax, alpha[size_t(i)]);
  }
  alpha_bars_->setData(pos, a, true);
  entropy_graph_->setData(pos, e, true);
  double amin = 0;
  for (double v : alpha) amin = std::min(amin, v);
  alpha_rect_->axis(QCPAxis::atLeft)
      ->setRange(amin * 1.08, amax > 0   ? amax * 1.08
                              : amin < 0 ? 0
                                         : 1);
  entropy_rect_->axis(QCPAxis::atBottom)->setRange(diff_ ? -1.05 : 0, 1.05);
  QSharedPointer<QCPAxisTickerText> ent_ticks(
      new QCPAxisTickerText);  // two ticks fit the narrow panel
  ent_ticks->setTicks(diff_ ? QMap<double, QString>{{-1, "−1"}, {1, "1"}}
                            : QMap<double, QString>{{0, "0"}, {1, "1"}});
  entropy_rect_->axis(QCPAxis::atBottom)->setTicker(ent_ticks);
  entropy_rect_->axis(QCPAxis::atBottom)->setLabel(diff_ ? "Δ entropy" : "entropy");
  alpha_rect_->axis(QCPAxis::atLeft)->setLabel(diff_ ? "Δ α_k" : "α_k");
}

void AttentionMapView::show_long(std::shared_ptr<const MapTileSource> src, int layer, int head, const QString& title) {
  if (!src) return clear();
  long_keep_zoom_ = cells() == src->T();
  pattern_.reset();
  long_T_ = src->T();
  long_title_ = title + " · " + QString::fromStdString(src->device(layer));
  diff_ = false;
  tile_timer_->stop();
  map_->set_levels({});
  alpha_bars_->data()->clear();
  entropy_graph_->data()->clear();
  title_->setText(long_title_ + " · computing…");
  loader_->open(std::move(src), layer, head);
  plot_->replot();
}

void AttentionMapView::show_overview() {
  auto o = loader_->overview();
  if (!o) return;
  own_top_ = o->scale_top;
  const ColorScale s = effective_scale(own_top_);
  map_->set_levels(image_pyramid(build_tile_image(o->pooled, s)), o->factor, o->T);
  apply_scale(s);
  set_panels(o->alpha, o->entropy);
  title_->setText(long_title_);
  if (long_keep_zoom_) {
    sync_side_ranges();
    plot_->replot();
  } else {
    reset_zoom();
  }
  request_tile();
}

void AttentionMapView::show_tile() {
  auto tile = loader_->tile();
  if (!tile) return;
  const MapTileRequest& r = tile->req;
  map_->set_detail(build_tile_image(*tile, scale_), QRect(r.j0, r.t0, r.j1 - r.j0, r.t1 - r.t0), r.pool_cols,
                   r.pool_rows);
  plot_->replot();
}

void AttentionMapView::request_tile() {
  if (!long_T_) return;
  const QCPRange kr = map_rect_->axis(QCPAxis::atTop)->range();
  const QCPRange qr = map_rect_->axis(QCPAxis::atLeft)->range();
  const int j0 = int(std::floor(kr.lower + 0.5)), j1 = int(std::ceil(kr.upper - 0.5)) + 1;
  const int t0 = int(std::floor(qr.lower + 0.5)), t1 = int(std::ceil(qr.upper - 0.5)) + 1;
  loader_->request_view(t0, t1, j0, j1, map_rect_->width(), map_rect_->height());
}

void AttentionMapView::rebuild_image() {
  if (long_T_) {  // recolour what was computed; no recomputation
    auto o = loader_->overview();
    if (!o) return;
    const ColorScale s = effective_scale(o->scale_top);
    map_->set_levels(image_pyramid(build_tile_image(o->pooled, s)), o->factor, o->T);
    apply_scale(s);
    show_tile();
    return;
  }
  if (!pattern_) return;
  if (diff_) {  // symmetric around 0, linear whatever the log setting (a difference has a sign)
    ColorScale s;
    s.hi = own_top_ > 0 ? own_top_ : 1.0;
    s.lo = -s.hi;
    map_->set_levels(image_pyramid(build_difference_image(*pattern_, s.hi), true));
    apply_scale(s);
    return;
  }
  const ColorScale s = effective_scale(own_top_ > 0 ? own_top_ : auto_scale(*pattern_, log_).hi);
  map_->set_levels(image_pyramid(build_pattern_image(*pattern_, s)));
  apply_scale(s);
}

ColorScale AttentionMapView::effective_scale(double own_top) const {
  return scale_with_top(shared_top_ > 0 ? shared_top_ : own_top, log_);
}

void AttentionMapView::set_shared_top(double top) {
  if (top == shared_top_) return;
  shared_top_ = top;
  if (diff_) return;
  rebuild_image();
  plot_->replot();
}

void AttentionMapView::show_difference(std::shared_ptr<const HeadPattern> a,
                                       std::shared_ptr<const HeadPattern> b, const QString& title) {
  if (!a || !b || a->T != b->T) return clear();
  const bool same_size = cells() == a->T;
  auto d = std::make_shared<HeadPattern>();
  d->layer = a->layer, d->head = a->head, d->T = a->T, d->mask = a->mask;
  d->w.resize(a->w.size());
  for (size_t i = 0; i < d->w.size(); ++i) d->w[i] = a->w[i] - b->w[i];
  loader_->close();
  long_T_ = 0;
  diff_ = true;
  pattern_ = d;
  // The 99.5th percentile of |A - B|, as for a map: one large difference does not wash out the
  // rest.
  own_top_ = auto_scale(*d, false).hi;
  title_->setText(title);
  rebuild_image();
  std::vector<double> alpha = key_importance(*a), entropy = query_entropy(*a);
  const std::vector<double> alpha_b = key_importance(*b), entropy_b = query_entropy(*b);
  for (size_t i = 0; i < alpha.size(); ++i) alpha[i] -= alpha_b[i], entropy[i] -= entropy_b[i];
  set_panels(alpha, entropy);
  if (!same_size) {
    reset_zoom();
  } else {
    sync_side_ranges();
    plot_->replot();
  }
}

QString AttentionMapView::title() const { return title_->text(); }

void AttentionMapView::set_compact(bool on) {
  static_cast<SquareMapGrid*>(square_grid_)->compact = on;
  plot_->replot();
}

bool AttentionMapView::compact() const {
  return static_cast<SquareMapGrid*>(square_grid_)->compact;
}

void AttentionMapView::set_figure_parts(const FigureParts& parts) {
  parts_ = parts;
  QCPAxis* query_axis = map_rect_->axis(QCPAxis::atLeft);
  query_axis->setTickLabels(parts.query_labels);
  query_axis->setLabel(parts.query_labels ? "query" : "");
  auto* grid = static_cast<SquareMapGrid*>(square_grid_);
  grid->colour_bar = parts.colour_bar;
  grid->bar_label_lines = parts.brief_bar_label ? 1 : 2;
  apply_scale(scale_);
  plot_->replot();
}

bool AttentionMapView::crosshair_shown() const { return hover_cell_->visible(); }

void AttentionMapView::set_crosshair(int t, int j) {
  const bool on = has_head() && t >= 0 && j >= 0 && t < cells() && j < cells();
  for (QCPAbstractItem* item :
       {static_cast<QCPAbstractItem*>(hover_cell_), static_cast<QCPAbstractItem*>(hover_row_),
        static_cast<QCPAbstractItem*>(hover_col_)})
    item->setVisible(on);
  if (on) {
    hover_cell_->topLeft->setCoords(j - 0.5, t - 0.5);
    hover_cell_->bottomRight->setCoords(j + 0.5, t + 0.5);
    hover_row_->point1->setCoords(0, t);
    hover_row_->point2->setCoords(1, t);
    hover_col_->point1->setCoords(j, 0);
    hover_col_->point2->setCoords(j, 1);
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

QString AttentionMapView::pattern_spec() const {
  const QString text = pattern_box_->currentText().trimmed();
  return pattern_box_->currentIndex() == 0 && text == pattern_box_->itemText(0) ? QString() : text;
}

void AttentionMapView::set_pattern_spec(const QString& spec) {
  if (spec.isEmpty())
    pattern_box_->setCurrentIndex(0);
  else
    pattern_box_->setCurrentText(spec);
  emit pattern_requested(pattern_spec());
}

void AttentionMapView::set_pattern_summary(const QString& text) {
  pattern_label_->setText(text);
  pattern_label_->setVisible(!text.isEmpty());
}

void AttentionMapView::set_pattern_chooser_visible(bool on) {
  pattern_box_->setVisible(on);
  if (!on) set_pattern_summary({});
}

void AttentionMapView::set_key_overlay(std::vector<std::vector<int>> keys_per_row,
                                       std::vector<double> kept_mass) {
  kept_mass_ = std::move(kept_mass);
  overlay_->set_rows(std::move(keys_per_row));
  plot_->replot();
}

QRect AttentionMapView::map_rect() const { return map_rect_->rect(); }

QStringList AttentionMapView::tick_labels(bool key_axis) const {
  auto ticker = qSharedPointerDynamicCast<QCPAxisTickerText>(
      map_rect_->axis(key_axis ? QCPAxis::atTop : QCPAxis::atLeft)->ticker());
  return ticker ? QStringList(ticker->ticks().values()) : QStringList();
}

void AttentionMapView::zoom_to(int first, int last) {
  map_rect_->axis(QCPAxis::atTop)->setRange(first - 0.5, last + 0.5);
  map_rect_->axis(QCPAxis::atLeft)->setRange(first - 0.5, last + 0.5);
  sync_side_ranges();
  plot_->replot();
}

void AttentionMapView::apply_scale(const ColorScale& s) {
  scale_ = s;
  color_scale_->setGradient(diff_ ? diverging_gradient() : viridis_gradient());
  color_scale_->setDataScaleType(s.log && !diff_ ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  color_scale_->setDataRange(QCPRange(s.lo, s.hi));
  QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
  ticks->setTicks(color_bar_ticks(s, diff_));
  color_scale_->axis()->setTicker(ticks);
  update_bar_label();
}

bool AttentionMapView::update_bar_label() {
  // Two lines, and only the first where even those would outrun the bar (a small map): the
  // ticks still show the clip (≥ top) and whether the scale is log.
  const QString brief = diff_ ? "A − B" : "weight";
  const QString full = diff_ ? QString("A − B\n(linear, clipped at ±%1)").arg(fmt(scale_.hi))
                             : QString("weight\n(%1, clipped at %2)")
                                   .arg(scale_.log ? "log" : "linear")
                                   .arg(fmt(scale_.hi));
  QCPAxis* axis = color_scale_->axis();
  const int longest = QFontMetrics(axis->labelFont()).horizontalAdvance(full.section('\n', 1));
  const bool fits = color_scale_->axis()->axisRect()->height() >= longest;
  const QString label = parts_.brief_bar_label || !fits ? brief : full;
  if (label == axis->label()) return false;
  axis->setLabel(label);
  return true;
}

void AttentionMapView::set_log_scale(bool log) {
  if (log == log_) return;
  log_ = log;
  scale_box_->blockSignals(true);
  scale_box_->setCurrentIndex(log ? 1 : 0);
  scale_box_->blockSignals(false);
  rebuild_image();
  plot_->replot();
}

void AttentionMapView::reset_zoom() {
  const double T = has_head() ? cells() : 1;
  map_rect_->axis(QCPAxis::atTop)->setRange(-0.5, T - 0.5);
  map_rect_->axis(QCPAxis::atLeft)->setRange(-0.5, T - 0.5);
  sync_side_ranges();
  plot_->replot();
}

void AttentionMapView::sync_side_ranges() {
  const QCPRange kr = map_rect_->axis(QCPAxis::atTop)->range();
  const QCPRange qr = map_rect_->axis(QCPAxis::atLeft)->range();
  alpha_rect_->axis(QCPAxis::atBottom)->setRange(kr);
  entropy_rect_->axis(QCPAxis::atLeft)->setRange(qr);
  update_ticks();
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

bool AttentionMapView::update_ticks() {
  const bool a = update_token_ticks(map_rect_->axis(QCPAxis::atTop), labels_);
  const bool b = update_token_ticks(map_rect_->axis(QCPAxis::atLeft), labels_);
  return a || b;
}

bool AttentionMapView::cell_at(const QPointF& pos, int& t, int& j) const {
  if (!has_head() || !map_rect_->rect().contains(pos.toPoint())) return false;
  j = int(std::lround(map_rect_->axis(QCPAxis::atTop)->pixelToCoord(pos.x())));
  t = int(std::lround(map_rect_->axis(QCPAxis::atLeft)->pixelToCoord(pos.y())));
  return t >= 0 && j >= 0 && t < cells() && j < cells();
}

QString AttentionMapView::describe_cell(int t, int j) const {
  if (!has_head() || t < 0 || j < 0 || t >= cells() || j >= cells()) return {};
  auto tok = [&](int i) { return i < labels_.size() ? labels_[i] : QString::number(i); };
  if (j > t || (pattern_ && !pattern_->mask.visible(t, j)))
    return QString("query %1 «%2» cannot see key %3 «%4» (masked)").arg(t).arg(tok(t)).arg(j).arg(tok(j));
  const QString head = QString("query %1 «%2» → key %3 «%4»%5: ")
                           .arg(t)
                           .arg(tok(t))
                           .arg(j)
                           .arg(tok(j))
                           .arg(diff_ ? " A − B" : "");
  if (pattern_) {
    QString text = head + QString::number(double(pattern_->at(t, j)), 'g', 4);
    const auto& rows = overlay_->rows();
    if (size_t(t) < rows.size()) {
      const bool kept = std::binary_search(rows[size_t(t)].begin(), rows[size_t(t)].end(), j);
      text += kept ? " · kept by the sparse pattern" : " · dropped by the sparse pattern";
      if (size_t(t) < kept_mass_.size())
        text += QString(" (row %1 keeps %2 of its mass, drops %3)")
                    .arg(t)
                    .arg(kept_mass_[size_t(t)], 0, 'f', 3)
                    .arg(1 - kept_mass_[size_t(t)], 0, 'f', 3);
    }
    return text;
  }
  // Long context: exact where an exact tile covers the cell, else the pooled block's largest.
  auto tile = loader_->tile();
  auto overview = loader_->overview();
  const MapTile* m = tile && tile->req.contains(t, j) ? tile.get() : overview ? &overview->pooled : nullptr;
  if (!m) return head + "being computed";
  if (m->req.exact()) return head + QString::number(double(m->cell(t, j)), 'g', 4);
  const MapTileRequest& r = m->req;
  const int ta = r.t0 + (t - r.t0) / r.pool_rows * r.pool_rows, ja = r.j0 + (j - r.j0) / r.pool_cols * r.pool_cols;
  const int tb = std::min(r.t1, ta + r.pool_rows) - 1, jb = std::min(r.j1, ja + r.pool_cols) - 1;
  return head + QString("at most %1 (largest |weight| of queries %2–%3 × keys %4–%5; zoom in for the exact weight)")
                    .arg(double(m->cell(t, j)), 0, 'g', 4).arg(ta).arg(tb).arg(ja).arg(jb);
}

QString AttentionMapView::csv() const {
  QString out = "query,key,query_token,key_token,weight\n";
  auto quoted = [](QString s) { return "\"" + s.replace("\"", "\"\"") + "\""; };
  auto tile = loader_->tile();
  if (!pattern_ && tile && tile->req.exact()) {
    const MapTileRequest& r = tile->req;
    for (int t = r.t0; t < r.t1; ++t)
      for (int j = r.j0; j < std::min(r.j1, t + 1); ++j)
        out += QString("%1,%2,%3,%4,%5\n").arg(t).arg(j)
                   .arg(quoted(t < labels_.size() ? labels_[t] : ""))
                   .arg(quoted(j < labels_.size() ? labels_[j] : ""))
                   .arg(double(tile->cell(t, j)), 0, 'g', 8);
    return out;
  }
  if (!pattern_) return out;
  for (int t = 0; t < pattern_->T; ++t)
    for (int j = 0; j <= t; ++j)
      out += QString("%1,%2,%3,%4,%5\n").arg(t).arg(j)
                 .arg(quoted(t < labels_.size() ? labels_[t] : ""))
                 .arg(quoted(j < labels_.size() ? labels_[j] : ""))
                 .arg(double(pattern_->at(t, j)), 0, 'g', 8);
  return out;
}

bool AttentionMapView::eventFilter(QObject* obj, QEvent* ev) {
  if (obj == plot_) {
    if (ev->type() == QEvent::MouseButtonPress) {
      press_ = static_cast<QMouseEvent*>(ev)->position();
    } else if (ev->type() == QEvent::MouseButtonRelease) {
      const QPointF p = static_cast<QMouseEvent*>(ev)->position();
      int t, j;
      if ((p - press_).manhattanLength() < 4 && cell_at(p, t, j)) {
        emit query_clicked(t);
        emit cell_clicked(t, j);
      }
    } else if (ev->type() == QEvent::Leave && hover_cell_->visible()) {
      set_crosshair(-1, -1);
      emit cell_hovered(-1, -1);
    }
  }
  return QWidget::eventFilter(obj, ev);
}

}  // namespace attnlab::gui
