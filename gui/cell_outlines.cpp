#include "gui/cell_outlines.h"

#include <algorithm>
#include <cmath>

namespace attnlab::gui {

CellOutlines::CellOutlines(QCPAxis* key_axis, QCPAxis* query_axis)
    : QCPAbstractPlottable(key_axis, query_axis) {
  setSelectable(QCP::stNone);
  setBrush(Qt::NoBrush);
  setPen(QPen(QColor(0xd6, 0x27, 0x28), 1.5));
}

void CellOutlines::set_rows(std::vector<std::vector<int>> keys_per_row) {
  rows_ = std::move(keys_per_row);
}

double CellOutlines::selectTest(const QPointF&, bool, QVariant*) const { return -1; }

QCPRange CellOutlines::getKeyRange(bool& found_range, QCP::SignDomain) const {
  found_range = false;
  return {};
}

QCPRange CellOutlines::getValueRange(bool& found_range, QCP::SignDomain, const QCPRange&) const {
  found_range = false;
  return {};
}

void CellOutlines::draw(QCPPainter* painter) {
  if (rows_.empty() || !keyAxis() || !valueAxis()) return;
  const QCPRange qr = valueAxis()->range();
  const int t0 = std::max(0, int(std::floor(qr.lower + 0.5)));
  const int t1 = std::min(int(rows_.size()) - 1, int(std::ceil(qr.upper - 0.5)));
  const QCPRange kr = keyAxis()->range();
  painter->setPen(pen());
  painter->setBrush(Qt::NoBrush);
  for (int t = t0; t <= t1; ++t)
    for (int j : rows_[size_t(t)]) {
      if (j < kr.lower - 0.5 || j > kr.upper + 0.5) continue;
      const QPointF a(keyAxis()->coordToPixel(j - 0.5), valueAxis()->coordToPixel(t - 0.5));
      const QPointF b(keyAxis()->coordToPixel(j + 0.5), valueAxis()->coordToPixel(t + 0.5));
      painter->drawRect(QRectF(a, b).normalized());
    }
}

void CellOutlines::drawLegendIcon(QCPPainter* painter, const QRectF& rect) const {
  painter->setPen(pen());
  painter->setBrush(Qt::NoBrush);
  painter->drawRect(rect.adjusted(2, 2, -2, -2));
}

}  // namespace attnlab::gui
