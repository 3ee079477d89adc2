#include "gui/pattern_plottable.h"

#include <cmath>

namespace attnlab::gui {

PatternPlottable::PatternPlottable(QCPAxis* key_axis, QCPAxis* value_axis)
    : QCPAbstractPlottable(key_axis, value_axis) {
  setSelectable(QCP::stNone);
}

void PatternPlottable::set_levels(std::vector<QImage> levels) { levels_ = std::move(levels); }

double PatternPlottable::selectTest(const QPointF&, bool, QVariant*) const { return -1; }

QCPRange PatternPlottable::getKeyRange(bool& found_range, QCP::SignDomain) const {
  found_range = !levels_.empty();
  return QCPRange(-0.5, image().width() - 0.5);
}

QCPRange PatternPlottable::getValueRange(bool& found_range, QCP::SignDomain, const QCPRange&) const {
  found_range = !levels_.empty();
  return QCPRange(-0.5, image().height() - 0.5);
}

void PatternPlottable::draw(QCPPainter* painter) {
  if (levels_.empty() || !keyAxis() || !valueAxis()) return;
  const int T = levels_.front().width();
  // Visible cells, clamped to the map.
  const QCPRange kr = keyAxis()->range(), vr = valueAxis()->range();
  const int k0 = std::max(0, int(std::floor(kr.lower + 0.5)));
  const int k1 = std::min(T - 1, int(std::ceil(kr.upper - 0.5)));
  const int v0 = std::max(0, int(std::floor(vr.lower + 0.5)));
  const int v1 = std::min(T - 1, int(std::ceil(vr.upper - 0.5)));
  if (k0 > k1 || v0 > v1) return;
  const QPointF a = coordsToPixels(k0 - 0.5, v0 - 0.5);
  const QPointF b = coordsToPixels(k1 + 0.5, v1 + 0.5);
  const QRectF target = QRectF(a, b).normalized();
  // The level with about one source pixel per screen pixel (vector output: the finest).
  const double cells_per_pixel =
      std::max((k1 - k0 + 1) / std::max(1.0, target.width()), (v1 - v0 + 1) / std::max(1.0, target.height()));
  size_t level = 0;
  if (!painter->modes().testFlag(QCPPainter::pmVectorized))
    while (level + 1 < levels_.size() && cells_per_pixel >= double(2 << level)) ++level;
  const QImage& img = levels_[level];
  const int f = 1 << level;
  const QRect src(k0 / f, v0 / f, std::min(img.width(), k1 / f + 1) - k0 / f, std::min(img.height(), v1 / f + 1) - v0 / f);
  // Cells the chosen source pixels cover, so the image lands exactly on its cells.
  const QRectF covered = QRectF(coordsToPixels(src.left() * f - 0.5, src.top() * f - 0.5),
                                coordsToPixels(std::min(T, (src.right() + 1) * f) - 0.5,
                                               std::min(T, (src.bottom() + 1) * f) - 0.5)).normalized();
  QImage part = img.copy(src);
  // Image rows grow downwards; mirror when the axes run the other way.
  const bool mirror_x = coordsToPixels(k1, v0).x() < coordsToPixels(k0, v0).x();
  const bool mirror_y = coordsToPixels(k0, v1).y() < coordsToPixels(k0, v0).y();
  if (mirror_x || mirror_y) part = part.mirrored(mirror_x, mirror_y);
  const bool smooth = painter->renderHints().testFlag(QPainter::SmoothPixmapTransform);
  painter->setRenderHint(QPainter::SmoothPixmapTransform, false);
  painter->save();
  painter->setClipRect(target, Qt::IntersectClip);
  painter->drawImage(covered, part);
  painter->restore();
  painter->setRenderHint(QPainter::SmoothPixmapTransform, smooth);
}

void PatternPlottable::drawLegendIcon(QCPPainter*, const QRectF&) const {}

}  // namespace attnlab::gui
