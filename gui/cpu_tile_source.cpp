#include "gui/cpu_tile_source.h"

#include <algorithm>
#include <vector>

#include "core/tensor/error.h"
#include "gui/attention_capture.h"

namespace attnlab::gui {
namespace {
// Thrown out of pattern() once the last wanted row has been seen: the variant has no row range,
// and the rows after t1 would cost as much as the rest.
struct Enough {};
}  // namespace

CpuTileSource::CpuTileSource(std::shared_ptr<const CapturedForward> capture) : capture_(std::move(capture)) {
  if (!capture_) throw Error("map tiles need a prompt's forward pass (none given)");
}

std::string CpuTileSource::attention_spec(int layer) const {
  return capture_->attention_spec(layer);
}

int CpuTileSource::T() const { return capture_->T(); }

void CpuTileSource::rows(const MapTileRequest& r, const TileRowVisitor& visit, const std::atomic<bool>* cancel) const {
  validate(r, T());
  std::vector<float> seg(size_t(r.j1 - r.j0));
  try {
    capture_->stream_rows(r.layer, r.head, [&](int t, const float* row) {
      if (cancel && cancel->load()) throw Cancelled{};
      if (t < r.t0) return;
      const int end = std::min(r.j1, t + 1);
      std::fill(seg.begin(), seg.end(), 0.0f);
      if (end > r.j0) std::copy(row + r.j0, row + end, seg.begin());
      visit(t, seg.data());
      if (t + 1 >= r.t1) throw Enough{};
    });
  } catch (const Enough&) {
  }
}

}  // namespace attnlab::gui
