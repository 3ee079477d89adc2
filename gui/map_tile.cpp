#include "gui/map_tile.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/tensor/error.h"

namespace attnlab::gui {

void validate(const MapTileRequest& r, int T) {
  auto range = [](int a, int b) { return "[" + std::to_string(a) + "," + std::to_string(b) + ")"; };
  if (!(0 <= r.t0 && r.t0 < r.t1 && r.t1 <= T))
    throw Error("map tile: query rows " + range(r.t0, r.t1) + " must be a non-empty range inside " + range(0, T));
  if (!(0 <= r.j0 && r.j0 < r.j1 && r.j1 <= T))
    throw Error("map tile: key columns " + range(r.j0, r.j1) + " must be a non-empty range inside " + range(0, T));
  if (r.pool_rows < 1 || r.pool_cols < 1)
    throw Error("map tile: pool sizes must be at least 1 (got " + std::to_string(r.pool_rows) + " x " +
                std::to_string(r.pool_cols) + ")");
  if (int64_t(r.rows()) * r.cols() > (int64_t(1) << 26))
    throw Error("map tile: " + std::to_string(r.rows()) + " x " + std::to_string(r.cols()) +
                " pixels is more than a screen needs; pool it");
}

TilePooler::TilePooler(const MapTileRequest& r) {
  tile_.req = r;
  tile_.w.assign(size_t(r.rows()) * r.cols(), 0.0f);
}

void TilePooler::add_row(int t, const float* w) {
  const MapTileRequest& r = tile_.req;
  float* out = tile_.w.data() + size_t((t - r.t0) / r.pool_rows) * r.cols();
  // Keys past t are masked: an exact tile keeps the source's 0 there, a pooled one ignores them.
  const int n = r.j1 - r.j0;
  if (r.exact()) {
    std::copy(w, w + n, out);
    return;
  }
  const int visible = std::min(n, t - r.j0 + 1);
  for (int c = 0; c < visible; ++c) {
    float& o = out[c / r.pool_cols];
    o = std::max(o, std::abs(w[c]));
  }
}

}  // namespace attnlab::gui
