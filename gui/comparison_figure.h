#pragma once
// The comparison as one figure: A, B and A - B side by side with square maps of one size, laid
// out for the page rather than the window. Only A keeps the query labels (the rows are the same
// tokens) and A's colour bar is dropped (B's holds for both: they share one scale), so the maps
// get the width a paper column has and every token stays labelled as long as it fits.
#include <QRect>
#include <QString>
#include <vector>

#include "gui/figure_export.h"

namespace attnlab::gui {

class AttentionMapView;

// Where the panels went, in logical pixels (1/96 in): each map is side x side.
struct ComparisonLayout {
  int side = 0;
  std::vector<QRect> panels;  // A, B, A - B
};

// size.height_in 0: as high as square maps need. Throws attnlab::Error when it cannot write.
ComparisonLayout export_comparison_figure(AttentionMapView* a, AttentionMapView* b,
                                          AttentionMapView* diff, const QString& path,
                                          const FigureSize& size);

}  // namespace attnlab::gui
