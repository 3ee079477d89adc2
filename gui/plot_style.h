#pragma once
// The look of every GUI plot: the experiments engine's paper style (fonts, pens, palette,
// colour maps) at screen sizes, so an exported figure matches what is on screen.
#include <QColor>
#include <QFont>

#include "experiments/figures/paper_style.h"

class QCPAxis;
class QCustomPlot;

namespace attnlab::gui {

const fig::PaperStyle& screen_style();
QFont title_font();
QColor accent_color();
QColor series_color(int i);
void style_axis(QCPAxis* axis);
void style_plot(QCustomPlot* plot);  // every axis of every axis rect, legend, background

}  // namespace attnlab::gui
