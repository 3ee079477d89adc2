#pragma once
// Tiles from a prompt's kept q/k/v through the variant's own pattern(): rows before t0 are
// computed and dropped (pattern() streams from row 0), rows after t1 are never computed, and
// memory stays O(T) whatever the rectangle.
#include <memory>

#include "gui/map_tile_source.h"

namespace attnlab::gui {

class CpuTileSource : public MapTileSource {
 public:
  explicit CpuTileSource(std::shared_ptr<const CapturedForward> capture);
  int T() const override;
  std::string device(int) const override { return "CPU"; }
  std::string attention_spec(int layer) const override;
  void rows(const MapTileRequest& r, const TileRowVisitor& visit, const std::atomic<bool>* cancel) const override;

 private:
  std::shared_ptr<const CapturedForward> capture_;
};

}  // namespace attnlab::gui
