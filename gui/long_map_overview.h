#pragma once
// A long prompt's head prepared for the map view without its T x T map: one streamed pass over
// the rows (from a MapTileSource) yields the max-pooled overview, the colour scale's top and the
// side panels; memory ~ side^2 + T, never T^2. Qt-free (the GPU tests compile it in); the view
// colours `pooled` with build_tile_image.
#include <atomic>
#include <vector>

#include "gui/map_tile_source.h"

namespace attnlab::gui {

struct LongMapOverview {
  int layer = -1, head = -1, T = 0;
  int factor = 1;      // cells per overview pixel along both axes
  MapTile pooled;      // the whole map pooled by `factor`
  double scale_top = 1.0;
  std::vector<double> alpha, entropy;
};

// Cells per pixel for an overview at most `side` pixels across.
int overview_factor(int T, int side);

// Streams every row of (layer, head) once. Throws Cancelled when *cancel turns true.
LongMapOverview build_long_overview(const MapTileSource& src, int layer, int head, int side,
                                    const std::atomic<bool>* cancel = nullptr);

}  // namespace attnlab::gui
