#include "gui/pattern_plottable.h"

#include <cmath>

namespace attnlab::gui {

PatternPlottable::PatternPlottable(QCPAxis* key_axis, QCPAxis* value_axis)
    : QCPAbstractPlottable(key_axis, value_axis) {
  setSelectable(QCP::stNone);
}

void PatternPlottable::set_levels(std::vector<QImage> levels, int factor, int T) {
  levels_ = std::move(levels);
  factor_ = std::max(1, factor);
  T_ = levels_.empty() ? 0 : T > 0 ? T : levels_.front().width() * factor_;
  detail_ = QImage();
}

void PatternPlottable::set_detail(QImage img, QRect cells, int fx, int fy) {
  detail_ = std::move(img);
  detail_cells_ = cells;
  detail_fx_ = std::max(1, fx);
  detail_fy_ = std::max(1, fy);
}

double PatternPlottable::selectTest(const QPointF&, bool, QVariant*) const { return -1; }

QCPRange PatternPlottable::getKeyRange(bool& found_range, QCP::SignDomain) const {
  found_range = !levels_.empty();
  return QCPRange(-0.5, T_ - 0.5);
}

QCPRange PatternPlottable::getValueRange(bool& found_range, QCP::SignDomain, const QCPRange&) const {
  found_range = !levels_.empty();
  return QCPRange(-0.5, T_ - 0.5);
}

void PatternPlottable::draw(QCPPainter* painter) {
  if (levels_.empty() || !keyAxis() || !valueAxis()) return;
  // The level with about one source pixel per screen pixel (vector output: the finest).
  const QCPRange kr = keyAxis()->range(), vr = valueAxis()->range();
  const QPointF a = coordsToPixels(kr.lower, vr.lower), b = coordsToPixels(kr.upper, vr.upper);
  const double cells_per_pixel = std::max(kr.size() / std::max(1.0, std::abs(b.x() - a.x())),
                                          vr.size() / std::max(1.0, std::abs(b.y() - a.y())));
  size_t level = 0;
  if (!painter->modes().testFlag(QCPPainter::pmVectorized))
    while (level + 1 < levels_.size() && cells_per_pixel >= double(factor_ << (level + 1))) ++level;
  const int f = factor_ << level;
  draw_cells(painter, levels_[level], QRect(0, 0, T_, T_), f, f);
  if (!detail_.isNull()) draw_cells(painter, detail_, detail_cells_, detail_fx_, detail_fy_);
}

void PatternPlottable::draw_cells(QCPPainter* painter, const QImage& img, const QRect& cells, int fx, int fy) {
  // Visible cells, clamped to the image's.
  const QCPRange kr = keyAxis()->range(), vr = valueAxis()->range();
  const int k0 = std::max(cells.left(), int(std::floor(kr.lower + 0.5)));
  const int k1 = std::min(cells.right(), int(std::ceil(kr.upper - 0.5)));
  const int v0 = std::max(cells.top(), int(std::floor(vr.lower + 0.5)));
  const int v1 = std::min(cells.bottom(), int(std::ceil(vr.upper - 0.5)));
  if (k0 > k1 || v0 > v1) return;
  const QPointF a = coordsToPixels(k0 - 0.5, v0 - 0.5);
  const QPointF b = coordsToPixels(k1 + 0.5, v1 + 0.5);
  const QRectF target = QRectF(a, b).normalized();
  const int x0 = cells.left(), y0 = cells.top();
  const int px0 = (k0 - x0) / fx, px1 = std::min(img.width() - 1, (k1 - x0) / fx);
  const int py0 = (v0 - y0) / fy, py1 = std::min(img.height() - 1, (v1 - y0) / fy);
  if (px0 > px1 || py0 > py1) return;
  const QRect src(px0, py0, px1 - px0 + 1, py1 - py0 + 1);
  // Cells the chosen source pixels cover, so the image lands exactly on its cells.
  const int xe = cells.right() + 1, ye = cells.bottom() + 1;
  const QRectF covered = QRectF(coordsToPixels(x0 + px0 * fx - 0.5, y0 + py0 * fy - 0.5),
                                coordsToPixels(std::min(xe, x0 + (px1 + 1) * fx) - 0.5,
                                               std::min(ye, y0 + (py1 + 1) * fy) - 0.5)).normalized();
  QImage part = img.copy(src);
  // Image rows grow downwards; mirror when the axes run the other way.
  const bool mirror_x = coordsToPixels(k1, v0).x() < coordsToPixels(k0, v0).x();
  const bool mirror_y = coordsToPixels(k0, v1).y() < coordsToPixels(k0, v0).y();
  if (mirror_x || mirror_y) part = part.mirrored(mirror_x, mirror_y);
  const bool smooth = painter->renderHints().testFlag(QPainter::SmoothPixmapTransform);
  painter->setRenderHint(QPainter::SmoothPixmapTransform, false);
  painter->save();
  painter->setClipRect(target, Qt::IntersectClip);
  // Lossless: else Qt's PDF writer may store the image as JPEG, whose chroma subsampling smears
  // colour across cells (bright cells came out pink).
  painter->setRenderHint(QPainter::LosslessImageRendering, true);
  painter->drawImage(covered, part);
  painter->restore();
  painter->setRenderHint(QPainter::SmoothPixmapTransform, smooth);
}

void PatternPlottable::drawLegendIcon(QCPPainter*, const QRectF&) const {}

}  // namespace attnlab::gui
