#include "gui/comparison_figure.h"

#include <qcustomplot.h>

#include <algorithm>
#include <vector>

#include "gui/attention_map_view.h"

namespace attnlab::gui {
namespace {

using Parts = AttentionMapView::FigureParts;

// Width `view` needs beside its square map: laid out `width` wide and very tall, the width limits
// the map, so the rest is labels and colour bar.
int width_beside_map(AttentionMapView* view, int width) {
  layout_plot(view->plot(), width, 4 * width + 400);
  return width - view->map_rect().width();
}

// Height of a panel `width` wide whose map has side `side`: the title and key labels above it.
int panel_height(AttentionMapView* view, int width, int side) {
  layout_plot(view->plot(), width, 4 * width + 400);
  return view->map_rect().top() + side + 6;
}

}  // namespace

ComparisonLayout export_comparison_figure(AttentionMapView* a, AttentionMapView* b,
                                          AttentionMapView* diff, const QString& path,
                                          const FigureSize& size) {
  const int W = int(size.width_in * 96 + 0.5);
  // A and B share one colour scale, so B's bar holds for both and only A keeps the query labels.
  // Below 5 in three maps in a row are too small for token labels: A | B above, A - B below.
  const bool two_rows = size.width_in < 5;
  a->set_figure_parts(Parts{true, false, true});
  b->set_figure_parts(Parts{false, true, true});
  diff->set_figure_parts(Parts{two_rows, true, true});
  auto restore = [&] {
    for (AttentionMapView* v : {a, b, diff}) v->set_figure_parts(Parts{});
  };
  for (AttentionMapView* v : {a, b, diff}) v->set_crosshair(-1, -1);  // the figure, not the hover
  PaperFonts fonts({a->plot(), b->plot(), diff->plot()});
  ComparisonLayout out;
  try {
    std::vector<QRect> rects;
    if (!two_rows) {
      const int wa = width_beside_map(a, W / 3), wb = width_beside_map(b, W / 3),
                wd = width_beside_map(diff, W / 3);
      const int side = std::max(16, (W - wa - wb - wd) / 3);
      out.side = side;
      int H = 0;
      for (auto [v, w] : {std::pair{a, wa}, {b, wb}, {diff, wd}})
        H = std::max(H, panel_height(v, w + side, side));
      if (size.height_in > 0) H = int(size.height_in * 96 + 0.5);
      rects = {QRect(0, 0, wa + side, H), QRect(wa + side, 0, wb + side, H),
               QRect(wa + wb + 2 * side, 0, W - (wa + wb + 2 * side), H)};
    } else {
      const int wa = width_beside_map(a, W / 2), wb = width_beside_map(b, W / 2),
                wd = width_beside_map(diff, W);
      const int side = std::max(16, (W - wa - wb) / 2);
      out.side = side;
      const int h1 = std::max(panel_height(a, wa + side, side), panel_height(b, wb + side, side));
      const int h2 = panel_height(diff, wd + side, side);
      rects = {QRect(0, 0, wa + side, h1), QRect(wa + side, 0, W - (wa + side), h1),
               QRect(0, h1, std::min(W, wd + side), h2)};
    }
    export_panels({a->plot(), b->plot(), diff->plot()}, rects, path, size.dpi);
    out.panels = rects;
  } catch (...) {
    restore();
    throw;
  }
  restore();
  return out;
}

}  // namespace attnlab::gui
