#include "gui/token_chips.h"

#include <QMouseEvent>
#include <QPainter>
#include <algorithm>


namespace attnlab::gui {
namespace {
constexpr int kPadX = 4, kPadY = 2, kGap = 3, kMargin = 4;
}

TokenChips::TokenChips(QWidget* parent) : QWidget(parent) {
  QSizePolicy sp(QSizePolicy::Preferred, QSizePolicy::Preferred);
  sp.setHeightForWidth(true);
  setSizePolicy(sp);
  setFont(QFont("DejaVu Sans Mono", 9));
}

void TokenChips::set_tokens(const QStringList& labels, const std::vector<int>& ids) {
  labels_ = labels;
  ids_ = ids;
  weights_.clear();
  if (selected_ >= labels_.size()) selected_ = -1;
  laid_out_width_ = -1;
  relayout(width());
  updateGeometry();
  update();
}

void TokenChips::set_weights(const std::vector<double>& w) {
  weights_ = w;
  update();
}

void TokenChips::set_selected(int i) {
  selected_ = i;
  update();
}

QRect TokenChips::chip_rect(int i) const { return i >= 0 && i < int(rects_.size()) ? rects_[i] : QRect(); }

void TokenChips::relayout(int width) {
  if (width == laid_out_width_ && rects_.size() == size_t(labels_.size())) return;
  laid_out_width_ = width;
  rects_.clear();
  const QFontMetrics fm(font());
  const int h = fm.height() + 2 * kPadY;
  int x = kMargin, y = kMargin;
  for (const QString& s : labels_) {
    const int w = fm.horizontalAdvance(s) + 2 * kPadX;
    if (x + w > width - kMargin && x > kMargin) {
      x = kMargin;
      y += h + kGap;
    }
    rects_.emplace_back(x, y, w, h);
    x += w + kGap;
  }
}

int TokenChips::heightForWidth(int w) const {
  const_cast<TokenChips*>(this)->relayout(w);
  const QFontMetrics fm(font());
  if (rects_.empty()) return fm.height() + 2 * kMargin;
  return rects_.back().bottom() + kMargin + 1;
}

QSize TokenChips::sizeHint() const { return QSize(400, heightForWidth(400)); }

void TokenChips::resizeEvent(QResizeEvent*) {
  relayout(width());
  update();
}

void TokenChips::paintEvent(QPaintEvent* ev) {
  relayout(width());
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing, true);
  if (labels_.isEmpty()) {
    p.setPen(QColor(0x88, 0x88, 0x88));
    p.drawText(rect().adjusted(kMargin, 0, 0, 0), Qt::AlignVCenter | Qt::AlignLeft,
               "Tokens appear here as you type");
    return;
  }
  double wmax = 0;
  for (double w : weights_) wmax = std::max(wmax, w);
  for (int i = 0; i < labels_.size(); ++i) {
    const QRect& r = rects_[i];
    if (!r.intersects(ev->rect())) continue;
    QColor fill(0xee, 0xf2, 0xf7), text(0x20, 0x20, 0x20);
    if (!weights_.empty() && i < int(weights_.size())) {
      if (wmax > 0) {
        // White to amber: highlighted text stays readable at every weight.
        fill = tint(weights_[i] / wmax);
      }
    }
    p.setBrush(fill);
    p.setPen(i == selected_ ? QPen(QColor(0xd6, 0x27, 0x28), 2) : QPen(QColor(0xb8, 0xc4, 0xd4), 1));
    p.drawRoundedRect(QRectF(r).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4);
    p.setPen(text);
    p.drawText(r, Qt::AlignCenter, labels_[i]);
  }
}

QColor TokenChips::tint(double f) {
  f = std::clamp(f, 0.0, 1.0);
  return QColor(int(255 - f * (255 - 0xf5)), int(255 - f * (255 - 0xa6)),
                int(255 - f * (255 - 0x23)));
}

QString TokenChips::legend_html(double wmax, const QString& what) {
  QString cells;
  for (int i = 0; i <= 4; ++i)
    cells += QString("<td style='background:%1'>&nbsp;&nbsp;&nbsp;&nbsp;</td>")
                 .arg(tint(i / 4.0).name());
  return QString(
             "<table cellspacing=0 "
             "cellpadding=1><tr><td>0&nbsp;</td>%1<td>&nbsp;%2</td></tr></table>"
             "<span style='color:#555'>chip shading ∝ %3, scaled to its largest</span>")
      .arg(cells)
      .arg(QString::number(wmax, 'g', 3))
      .arg(what);
}

void TokenChips::mousePressEvent(QMouseEvent* ev) {
  for (size_t i = 0; i < rects_.size(); ++i)
    if (rects_[i].contains(ev->position().toPoint())) {
      set_selected(int(i));
      emit chip_clicked(int(i));
      return;
    }
}

}  // namespace attnlab::gui
