#pragma once
// Tiles recomputed by the GPU model (core/cuda DeviceTransformer::attention_tile): the forward
// up to the head's layer runs on the device and only the rectangle comes back, so a T = 16k
// head costs a few device forwards instead of a CPU pass over T^2/2 scores per tile. Layers
// whose attention has no fused kernel (gpu_attention_spec: softmax and window(size, sinks)
// only), or a model the GPU cannot hold, are served by the CPU source.
// CUDA-free header: it compiles in every build; available() is false without the CUDA backend
// or without a usable GPU.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gui/cpu_tile_source.h"

namespace attnlab::gui {

class GpuTileSource : public MapTileSource {
 public:
  // This build has the CUDA backend and this machine a GPU it can run on.
  static bool available();
  // Rows per device call are capped so one call returns at most band_cells floats
  // (attention_tile hands back its whole rectangle; the overview reads all T keys).
  static constexpr int64_t kBandCells = int64_t(1) << 25;  // 128 MB each side
  // Throws attnlab::Error when !available(). The weights are uploaded on first use (on the
  // worker thread that asks for a tile), once per model.
  explicit GpuTileSource(std::shared_ptr<const CapturedForward> capture, int64_t band_cells = kBandCells);
  ~GpuTileSource() override;

  int T() const override { return cpu_.T(); }
  std::string device(int layer) const override;
  std::string attention_spec(int layer) const override;
  void rows(const MapTileRequest& r, const TileRowVisitor& visit, const std::atomic<bool>* cancel) const override;
  // Whether `layer`'s spec has a fused kernel (tiles may still fall back to the CPU when the
  // GPU model cannot be built; device() then says why).
  bool gpu_layer(int layer) const;

  struct Device;  // the uploaded model, shared by every source of the same Transformer

 private:
  std::shared_ptr<Device> device_model() const;  // null (with failure_) when it cannot be built

  std::shared_ptr<const CapturedForward> capture_;
  CpuTileSource cpu_;
  int64_t band_cells_;
  std::vector<bool> gpu_layer_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<Device> dev_;
  mutable std::string failure_;
};

}  // namespace attnlab::gui
