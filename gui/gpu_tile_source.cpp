#include "gui/gpu_tile_source.h"

#include <algorithm>

#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "gui/attention_capture.h"
#ifdef ATTNLAB_HAVE_CUDA
#include "core/cuda/device_model.h"
#include "core/cuda/gpu_spec.h"
#include "core/cuda/plan.h"
#include "core/cuda/runtime.h"
#endif

namespace attnlab::gui {

#ifdef ATTNLAB_HAVE_CUDA
struct GpuTileSource::Device {
  explicit Device(Transformer& m) : model(m.config(), m.weights()) {}
  cuda::DeviceTransformer model;
  std::mutex run;  // DeviceTransformer is not reentrant; the two map views may share one
};

namespace {
// One upload per model: every prompt makes a new source, but the explorer's model only changes
// when another file is opened. Only weak references here, so the device model dies with the last
// source (the windows), never in static destruction after the CUDA runtime has gone.
std::mutex cache_mu;
std::weak_ptr<Transformer> cached_owner;
std::weak_ptr<GpuTileSource::Device> cached_device;

bool same_model(const std::shared_ptr<Transformer>& model) {
  return !cached_owner.expired() && !cached_owner.owner_before(model) && !model.owner_before(cached_owner);
}

// The uploaded copy of `model` if one is alive (no upload).
std::shared_ptr<GpuTileSource::Device> find_device(const std::shared_ptr<Transformer>& model) {
  std::lock_guard<std::mutex> lock(cache_mu);
  return same_model(model) ? cached_device.lock() : nullptr;
}

std::shared_ptr<GpuTileSource::Device> shared_device(const std::shared_ptr<Transformer>& model) {
  std::lock_guard<std::mutex> lock(cache_mu);
  if (same_model(model))
    if (auto d = cached_device.lock()) return d;
  auto d = std::make_shared<GpuTileSource::Device>(*model);
  cached_device = d;
  cached_owner = model;
  return d;
}
}  // namespace
#else
struct GpuTileSource::Device {};
#endif

bool GpuTileSource::available() {
#ifdef ATTNLAB_HAVE_CUDA
  static const bool ok = cuda::cuda_available();
  return ok;
#else
  return false;
#endif
}

GpuTileSource::GpuTileSource(std::shared_ptr<const CapturedForward> capture, int64_t band_cells)
    : capture_(capture), cpu_(capture), band_cells_(band_cells) {
  if (band_cells_ < 1) throw Error("GPU map tiles: band_cells must be at least 1");
#ifdef ATTNLAB_HAVE_CUDA
  cuda::require_cuda("GPU map tiles");
  for (int l = 0; l < capture_->n_layers(); ++l) {
    bool ok = true;
    try {
      cuda::gpu_attention_spec(capture_->attention_spec(l));
    } catch (const Error&) {
      ok = false;
    }
    gpu_layer_.push_back(ok);
  }
  dev_ = find_device(capture_->model());  // hold the previous prompt's upload before it is dropped
#else
  throw Error("GPU map tiles: this build has no CUDA backend");
#endif
}

GpuTileSource::~GpuTileSource() = default;

bool GpuTileSource::gpu_layer(int layer) const {
  return layer >= 0 && layer < int(gpu_layer_.size()) && gpu_layer_[size_t(layer)];
}

std::shared_ptr<GpuTileSource::Device> GpuTileSource::device_model() const {
  std::lock_guard<std::mutex> lock(mu_);
#ifdef ATTNLAB_HAVE_CUDA
  if (!dev_ && failure_.empty()) {
    try {
      dev_ = shared_device(capture_->model());
    } catch (const std::exception& e) {
      failure_ = e.what();  // e.g. an architecture the GPU model does not take: the CPU serves
    }
  }
#endif
  return dev_;
}

std::string GpuTileSource::attention_spec(int layer) const {
  return capture_->attention_spec(layer);
}

std::string GpuTileSource::device(int layer) const {
  if (!gpu_layer(layer)) return "CPU (no GPU kernel for " + capture_->attention_spec(layer) + ")";
  std::lock_guard<std::mutex> lock(mu_);
  if (!failure_.empty()) return "CPU (GPU model: " + failure_ + ")";
  return "GPU";
}

void GpuTileSource::rows(const MapTileRequest& r, const TileRowVisitor& visit, const std::atomic<bool>* cancel) const {
  validate(r, T());
  if (r.layer < 0 || r.layer >= capture_->n_layers() || r.head < 0 || r.head >= capture_->n_heads())
    return cpu_.rows(r, visit, cancel);  // the CPU source words the error
  std::shared_ptr<Device> dev = gpu_layer(r.layer) ? device_model() : nullptr;
  if (!dev) return cpu_.rows(r, visit, cancel);
#ifdef ATTNLAB_HAVE_CUDA
  const int width = r.j1 - r.j0;
  const int band = int(std::min<int64_t>(r.t1 - r.t0, std::max<int64_t>(1, band_cells_ / width)));
  const std::vector<int32_t>& tokens = capture_->tokens();
  for (int b0 = r.t0; b0 < r.t1; b0 += band) {
    if (cancel && cancel->load()) throw Cancelled{};
    cuda::TileRequest req;
    req.b = 0, req.h = r.head;
    req.t0 = b0, req.t1 = std::min(r.t1, b0 + band), req.j0 = r.j0, req.j1 = r.j1;
    std::vector<float> out;
    {
      std::lock_guard<std::mutex> lock(dev->run);
      out = dev->model.attention_tile(tokens.data(), 1, T(), r.layer, req);
    }
    for (int t = req.t0; t < req.t1; ++t) visit(t, out.data() + size_t(t - req.t0) * width);
  }
#endif
}

}  // namespace attnlab::gui
