#include "gui/plot_style.h"

#include <qcustomplot.h>

#include <cmath>

#include "gui/color_lut.h"

namespace attnlab::gui {

const fig::PaperStyle& screen_style() {
  static const fig::PaperStyle s = [] {
    fig::PaperStyle p = fig::paper_style();
    // Screen text is read at arm's length, not in a printed column.
    p.tick_pt = 8.0;
    p.label_pt = 9.0;
    p.title_pt = 10.0;
    p.legend_pt = 8.0;
    return p;
  }();
  return s;
}

QFont title_font() {
  QFont f(screen_style().font_family);
  f.setPointSizeF(screen_style().title_pt);
  f.setBold(true);
  return f;
}

QColor accent_color() { return fig::series_color(0); }
QColor series_color(int i) { return fig::series_color(i); }
void style_axis(QCPAxis* a) { fig::style_axis(a, screen_style()); }
void style_plot(QCustomPlot* plot) {
  // Plots with a custom layout have no legend, which apply_paper_style expects.
  if (plot->legend) return fig::apply_paper_style(*plot, screen_style());
  plot->setBackground(Qt::white);
  for (QCPAxisRect* rect : plot->axisRects())
    for (QCPAxis* a : rect->axes()) style_axis(a);
}

LayerHeadPlot setup_layer_head_plot(QCustomPlot* plot, const QString& title) {
  LayerHeadPlot out;
  plot->plotLayout()->insertRow(0);
  out.title = new QCPTextElement(plot, title, title_font());
  plot->plotLayout()->addElement(0, 0, out.title);
  plot->xAxis->setLabel("head");
  plot->yAxis->setLabel("layer");
  plot->yAxis->setRangeReversed(true);
  for (QCPAxis* a : {plot->xAxis, plot->yAxis}) {
    style_axis(a);
    a->grid()->setVisible(false);
    a->setSubTicks(false);
  }
  out.scale = new QCPColorScale(plot);
  plot->plotLayout()->addElement(1, 1, out.scale);
  out.scale->setGradient(viridis_gradient());
  out.scale->setBarWidth(10);
  style_axis(out.scale->axis());
  auto* group = new QCPMarginGroup(plot);
  plot->axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, group);
  out.scale->setMarginGroup(QCP::msTop | QCP::msBottom, group);
  return out;
}

bool layer_head_at(const QCustomPlot* plot, const QPointF& pos, int n_layers, int n_heads, int& layer,
                   int& head) {
  if (n_layers == 0 || !plot->axisRect()->rect().contains(pos.toPoint())) return false;
  head = int(std::lround(plot->xAxis->pixelToCoord(pos.x())));
  layer = int(std::lround(plot->yAxis->pixelToCoord(pos.y())));
  return layer >= 0 && head >= 0 && layer < n_layers && head < n_heads;
}

void mark_layer_head(QCPItemRect* mark, int layer, int head, double inset) {
  const double half = 0.5 - inset;
  mark->topLeft->setCoords(head - half, layer - half);
  mark->bottomRight->setCoords(head + half, layer + half);
  mark->setVisible(layer >= 0);
}

QPoint layer_head_center(const QCustomPlot* plot, int layer, int head) {
  return QPoint(int(plot->xAxis->coordToPixel(head)), int(plot->yAxis->coordToPixel(layer)));
}

}  // namespace attnlab::gui
