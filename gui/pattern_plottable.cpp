#include "gui/pattern_plottable.h"

#include <cmath>

namespace attnlab::gui {

PatternPlottable::PatternPlottable(QCPAxis* key_axis, QCPAxis* value_axis)
    : QCPAbstractPlottable(key_axis, value_axis) {
  setSelectable(QCP::stNone);
}

void PatternPlottable::set_image(const QImage& image) { image_ = image; }

double PatternPlottable::selectTest(const QPointF&, bool, QVariant*) const { return -1; }

QCPRange PatternPlottable::getKeyRange(bool& found_range, QCP::SignDomain) const {
  found_range = !image_.isNull();
  return QCPRange(-0.5, image_.width() - 0.5);
}

QCPRange PatternPlottable::getValueRange(bool& found_range, QCP::SignDomain, const QCPRange&) const {
  found_range = !image_.isNull();
  return QCPRange(-0.5, image_.height() - 0.5);
}

void PatternPlottable::draw(QCPPainter* painter) {
  if (image_.isNull() || !keyAxis() || !valueAxis()) return;
  const int T = image_.width();
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
  const bool whole = k0 == 0 && v0 == 0 && k1 == T - 1 && v1 == image_.height() - 1;
  QImage part = whole ? image_ : image_.copy(k0, v0, k1 - k0 + 1, v1 - v0 + 1);
  // Image rows grow downwards; mirror when the axes run the other way.
  const bool mirror_x = coordsToPixels(k1, v0).x() < coordsToPixels(k0, v0).x();
  const bool mirror_y = coordsToPixels(k0, v1).y() < coordsToPixels(k0, v0).y();
  if (mirror_x || mirror_y) part = part.mirrored(mirror_x, mirror_y);
  const bool smooth = painter->renderHints().testFlag(QPainter::SmoothPixmapTransform);
  painter->setRenderHint(QPainter::SmoothPixmapTransform, false);
  painter->drawImage(target, part);
  painter->setRenderHint(QPainter::SmoothPixmapTransform, smooth);
}

void PatternPlottable::drawLegendIcon(QCPPainter*, const QRectF&) const {}

}  // namespace attnlab::gui
