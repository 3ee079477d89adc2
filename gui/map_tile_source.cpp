#include "gui/map_tile_source.h"

#include "gui/cpu_tile_source.h"
#include "gui/gpu_tile_source.h"

namespace attnlab::gui {

MapTile MapTileSource::tile(const MapTileRequest& r, const std::atomic<bool>* cancel) const {
  validate(r, T());
  TilePooler pool(r);
  rows(r, [&](int t, const float* w) { pool.add_row(t, w); }, cancel);
  return pool.take();
}

std::shared_ptr<const MapTileSource> make_map_tile_source(std::shared_ptr<const CapturedForward> capture,
                                                          bool allow_gpu) {
  if (allow_gpu && GpuTileSource::available()) return std::make_shared<GpuTileSource>(std::move(capture));
  return std::make_shared<CpuTileSource>(std::move(capture));
}

}  // namespace attnlab::gui
