#pragma once
// The look of every GUI plot: the experiments engine's paper style (fonts, pens, palette,
// colour maps) at screen sizes, so an exported figure matches what is on screen.
#include <QColor>
#include <QFont>

#include "experiments/figures/paper_style.h"

class QCPAxis;
class QCPColorScale;
class QCPTextElement;
class QCustomPlot;
class QPoint;
class QPointF;
class QString;

namespace attnlab::gui {

const fig::PaperStyle& screen_style();
QFont title_font();
QColor accent_color();
QColor series_color(int i);
void style_axis(QCPAxis* axis);
void style_plot(QCustomPlot* plot);  // every axis of every axis rect, legend, background

// The layer x head plot that the head grid and the model view both draw on: a title row, "head"
// across and "layer" down (layer 0 on top) and a viridis colour scale aligned beside it.
struct LayerHeadPlot {
  QCPTextElement* title;
  QCPColorScale* scale;
};
LayerHeadPlot setup_layer_head_plot(QCustomPlot* plot, const QString& title);
// On such a plot: the cell under a widget position (false outside the n_layers x n_heads grid), and
// a cell's centre in widget pixels.
bool layer_head_at(const QCustomPlot* plot, const QPointF& pos, int n_layers, int n_heads, int& layer,
                   int& head);
QPoint layer_head_center(const QCustomPlot* plot, int layer, int head);
// Puts `mark` around cell (layer, head), inset by `inset` cells on each side; hidden for layer < 0.
void mark_layer_head(QCPItemRect* mark, int layer, int head, double inset = 0.0);

}  // namespace attnlab::gui
