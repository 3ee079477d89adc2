#pragma once
// A QCustomPlot plottable that draws a prebuilt QImage over cells [-0.5, T-0.5]^2, copying only
// the visible part: zoom and pan cost one scaled blit, whatever T is. At long context the image
// is a pooled overview (each pixel covers `factor` cells a side) with a finer tile of the
// visible region drawn over it.
#include <QImage>
#include <QRect>
#include <vector>
#include <qcustomplot.h>

namespace attnlab::gui {

class PatternPlottable : public QCPAbstractPlottable {
  Q_OBJECT
 public:
  PatternPlottable(QCPAxis* key_axis, QCPAxis* value_axis);
  // levels[0] covers T x T cells with `factor` cells per pixel a side (T = width * factor when
  // not given); the others are its max-pooled halvings (image_pyramid).
  void set_levels(std::vector<QImage> levels, int factor = 1, int T = -1);
  // An image whose pixel (x, y) covers cells keys [x0 + x*fx, ...) x queries [y0 + y*fy, ...),
  // clipped to `cells` (x = keys, y = queries); drawn over the levels. Null image: none.
  void set_detail(QImage img, QRect cells, int fx, int fy);
  const QImage& image() const { return levels_.empty() ? empty_ : levels_.front(); }
  const QImage& detail() const { return detail_; }
  int cells() const { return T_; }

  double selectTest(const QPointF& pos, bool only_selectable, QVariant* details = nullptr) const override;
  QCPRange getKeyRange(bool& found_range, QCP::SignDomain domain = QCP::sdBoth) const override;
  QCPRange getValueRange(bool& found_range, QCP::SignDomain domain = QCP::sdBoth,
                         const QCPRange& in_key_range = QCPRange()) const override;

 protected:
  void draw(QCPPainter* painter) override;
  void drawLegendIcon(QCPPainter* painter, const QRectF& rect) const override;

 private:
  // Draws the on-screen part of `img` (pixel (x, y) covering cells as set_detail says).
  void draw_cells(QCPPainter* painter, const QImage& img, const QRect& cells, int fx, int fy);

  std::vector<QImage> levels_;
  int factor_ = 1, T_ = 0;
  QImage detail_;
  QRect detail_cells_;
  int detail_fx_ = 1, detail_fy_ = 1;
  QImage empty_;
};

}  // namespace attnlab::gui
