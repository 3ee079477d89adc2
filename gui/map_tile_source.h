#pragma once
// Where the map view gets one head's weights at long context: rows of a rectangle recomputed on
// demand (the CPU from the prompt's kept q/k/v, or the GPU model), never the whole T x T map.
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "gui/map_tile.h"

namespace attnlab::gui {

class CapturedForward;

// Row t of a rectangle: w[j - j0] for keys j in [j0, j1), 0 where j > t.
using TileRowVisitor = std::function<void(int t, const float* w)>;

class MapTileSource {
 public:
  virtual ~MapTileSource() = default;
  virtual int T() const = 0;
  // Where `layer`'s tiles are computed ("CPU", "GPU"), for the view's status line.
  virtual std::string device(int layer) const = 0;
  // The layer's attention spec (its mask terms decide alpha_k's divisor); "" = plain causal.
  virtual std::string attention_spec(int layer) const { return {}; }
  // Streams rows t0..t1-1 of r's rectangle (r's pool is ignored) in order of t. Polls `cancel`
  // and throws Cancelled once it turns true; throws attnlab::Error for a bad request.
  virtual void rows(const MapTileRequest& r, const TileRowVisitor& visit, const std::atomic<bool>* cancel) const = 0;

  // The tile r asks for (validated, rows pooled as they stream).
  MapTile tile(const MapTileRequest& r, const std::atomic<bool>* cancel = nullptr) const;
};

// The GPU source where this build has the CUDA backend and this machine a GPU (it still serves
// layers the fused kernels cannot run from the CPU), else the CPU source. allow_gpu = false
// forces the CPU (tests, and the reference the GPU is compared with).
std::shared_ptr<const MapTileSource> make_map_tile_source(std::shared_ptr<const CapturedForward> capture,
                                                          bool allow_gpu = true);

}  // namespace attnlab::gui
