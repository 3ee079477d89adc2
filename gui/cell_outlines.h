#pragma once
// Outlined cells over an attention map: the hovered cell, and an overlay of a key set per query
// row (a sparse pattern's selected keys, issue 16). Drawn only for the visible rows, so a set
// per row at T = 2048 costs what is on screen.
#include <qcustomplot.h>

#include <QPen>
#include <vector>

namespace attnlab::gui {

class CellOutlines : public QCPAbstractPlottable {
  Q_OBJECT
 public:
  CellOutlines(QCPAxis* key_axis, QCPAxis* query_axis);
  // keys_per_row[t]: the keys outlined in query row t (rows past the end: none).
  void set_rows(std::vector<std::vector<int>> keys_per_row);
  const std::vector<std::vector<int>>& rows() const { return rows_; }
  void set_outline(const QPen& pen) { setPen(pen); }

  double selectTest(const QPointF& pos, bool only_selectable,
                    QVariant* details = nullptr) const override;
  QCPRange getKeyRange(bool& found_range, QCP::SignDomain domain = QCP::sdBoth) const override;
  QCPRange getValueRange(bool& found_range, QCP::SignDomain domain = QCP::sdBoth,
                         const QCPRange& in_key_range = QCPRange()) const override;

 protected:
  void draw(QCPPainter* painter) override;
  void drawLegendIcon(QCPPainter* painter, const QRectF& rect) const override;

 private:
  std::vector<std::vector<int>> rows_;
};

}  // namespace attnlab::gui
