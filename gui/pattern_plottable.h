#pragma once
// A QCustomPlot plottable that draws a prebuilt QImage over cells [-0.5, T-0.5]^2, copying only
// the visible part: zoom and pan cost one scaled blit, whatever T is.
#include <QImage>
#include <vector>
#include <qcustomplot.h>

namespace attnlab::gui {

class PatternPlottable : public QCPAbstractPlottable {
  Q_OBJECT
 public:
  PatternPlottable(QCPAxis* key_axis, QCPAxis* value_axis);
  // levels[0] is T x T; the others are its max-pooled halvings (image_pyramid).
  void set_levels(std::vector<QImage> levels);
  const QImage& image() const { return levels_.empty() ? empty_ : levels_.front(); }

  double selectTest(const QPointF& pos, bool only_selectable, QVariant* details = nullptr) const override;
  QCPRange getKeyRange(bool& found_range, QCP::SignDomain domain = QCP::sdBoth) const override;
  QCPRange getValueRange(bool& found_range, QCP::SignDomain domain = QCP::sdBoth,
                         const QCPRange& in_key_range = QCPRange()) const override;

 protected:
  void draw(QCPPainter* painter) override;
  void drawLegendIcon(QCPPainter* painter, const QRectF& rect) const override;

 private:
  std::vector<QImage> levels_;
  QImage empty_;
};

}  // namespace attnlab::gui
