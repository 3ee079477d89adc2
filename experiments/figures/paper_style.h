#pragma once
// The one paper style every figure uses, in the CLI and in the GUI: fonts and sizes, line
// widths, figure size (a single journal column), the categorical palette, and the colour maps
// (viridis and magma for magnitudes, RdBu for signed values).
#include <qcustomplot.h>

#include <string>

namespace attnlab::fig {

struct PaperStyle {
  QString font_family = "DejaVu Sans";
  double tick_pt = 7.0;
  double label_pt = 8.0;
  double title_pt = 8.5;
  double legend_pt = 7.0;
  double line_width = 1.3;
  double axis_width = 0.6;
  double width_in = 3.4;   // one column of a two-column paper
  double height_in = 2.5;
  int dpi = 300;           // PNG resolution
  int band_alpha = 50;     // seed bands: fill alpha out of 255
};

const PaperStyle& paper_style();

// Fonts, axis pens, ticks, grid and legend of `plot` and of every axis rect it has.
void apply_paper_style(QCustomPlot& plot, const PaperStyle& s = paper_style());
void style_axis(QCPAxis* axis, const PaperStyle& s = paper_style());

// i-th colour of the categorical palette (Tableau 10, which reads well in print).
QColor series_color(int i);

// "viridis" | "magma" | "RdBu". Throws attnlab::Error for another name, listing these.
QCPColorGradient colormap(const std::string& name);
QColor colormap_color(const std::string& name, double t);  // t in [0, 1]

}  // namespace attnlab::fig
