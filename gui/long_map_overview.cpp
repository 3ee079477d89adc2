#include "gui/long_map_overview.h"

#include <algorithm>
#include <string>

#include "core/tensor/error.h"
#include "gui/map_statistics.h"

namespace attnlab::gui {

int overview_factor(int T, int side) {
  if (side < 1) throw Error("map overview: side must be at least 1 pixel (got " + std::to_string(side) + ")");
  return std::max(1, (T + side - 1) / side);
}

LongMapOverview build_long_overview(const MapTileSource& src, int layer, int head, int side,
                                    const std::atomic<bool>* cancel) {
  const int T = src.T();
  LongMapOverview o;
  o.layer = layer, o.head = head, o.T = T;
  o.factor = overview_factor(T, side);
  MapTileRequest r;
  r.layer = layer, r.head = head;
  r.t0 = 0, r.t1 = T, r.j0 = 0, r.j1 = T;
  r.pool_rows = r.pool_cols = o.factor;
  validate(r, T);
  TilePooler pool(r);
  MapStatistics stats(T, KeyMask::from_spec(src.attention_spec(layer)));
  src.rows(r, [&](int t, const float* row) {
    pool.add_row(t, row);
    stats.add_row(t, row);
  }, cancel);
  o.pooled = pool.take();
  o.scale_top = stats.scale.top();
  o.alpha = stats.alpha.result(stats.mask);
  o.entropy = std::move(stats.entropy);
  return o;
}

}  // namespace attnlab::gui
