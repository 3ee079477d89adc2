#include "gui/color_lut.h"

#include "experiments/figures/paper_style.h"

namespace attnlab::gui {

// The paper style's viridis, tabulated so that a 2048 x 2048 map colours in a few milliseconds.
const ColorLut& viridis_lut() {
  static const ColorLut lut = [] {
    ColorLut l;
    for (int i = 0; i < 256; ++i) l.rgb[i] = fig::colormap_color("viridis", i / 255.0).rgb();
    return l;
  }();
  return lut;
}

QCPColorGradient viridis_gradient() { return fig::colormap("viridis"); }

QCPColorGradient diverging_gradient() {
  QCPColorGradient g;
  g.clearColorStops();
  for (int i = 0; i <= 10; ++i)
    g.setColorStopAt(i / 10.0, fig::colormap_color("RdBu", 1.0 - i / 10.0));
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  return g;
}

}  // namespace attnlab::gui
