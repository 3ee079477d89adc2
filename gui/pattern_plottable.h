#pragma once
// A QCustomPlot plottable that draws a prebuilt QImage over cells [-0.5, T-0.5]^2, copying only
// the visible part: zoom and pan cost one scaled blit, whatever T is.
#include <QImage>
#include <qcustomplot.h>

namespace attnlab::gui {

class PatternPlottable : public QCPAbstractPlottable {
  Q_OBJECT
 public:
  PatternPlottable(QCPAxis* key_axis, QCPAxis* value_axis);
  void set_image(const QImage& image);  // image.width() == image.height() == T
  const QImage& image() const { return image_; }

  double selectTest(const QPointF& pos, bool only_selectable, QVariant* details = nullptr) const override;
  QCPRange getKeyRange(bool& found_range, QCP::SignDomain domain = QCP::sdBoth) const override;
  QCPRange getValueRange(bool& found_range, QCP::SignDomain domain = QCP::sdBoth,
                         const QCPRange& in_key_range = QCPRange()) const override;

 protected:
  void draw(QCPPainter* painter) override;
  void drawLegendIcon(QCPPainter* painter, const QRectF& rect) const override;

 private:
  QImage image_;
};

}  // namespace attnlab::gui
