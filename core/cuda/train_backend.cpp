#include "core/cuda/train_backend.h"

#include "core/cuda/device_model.h"
#include "core/cuda/runtime.h"
#include "core/tensor/error.h"

namespace attnlab::cuda {

namespace {

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::tf32: return "tf32";
    case Precision::bf16: return "bf16";
    default: return "fp32";
  }
}

class CudaTrainBackend final : public TrainBackend {
 public:
  CudaTrainBackend(Transformer& model, const AdamWConfig& cfg, Precision precision)
      : model_(model), cfg_(cfg), precision_(precision) {
    require_cuda("training with --device cuda");
    for (const Param& p : model_.params()) decay_[p.name] = p.decay;
    upload();
  }
  std::string describe() const override {
    return "cuda: " + device_description() + ", " + precision_name(precision_) + " GEMMs";
  }
  float forward_loss(const Batch& batch) override { return dev().forward_loss(batch); }
  void backward() override { dev().backward(); }
  void zero_grad() override { dev().zero_grad(); }
  float clip_grad_norm(float max_norm) override { return dev().clip_grad_norm(max_norm); }
  void adamw_step(float lr) override { dev().adamw_step(lr, cfg_, decay_); }
  std::map<std::string, Tensor> optimizer_state() const override { return dev().optimizer_state(); }
  int64_t optimizer_step() const override { return dev().optimizer_step(); }
  void load_state(const std::map<std::string, Tensor>& state, int64_t t) override {
    upload();  // the Transformer holds the checkpoint's weights now
    dev().load_optimizer_state(state, t);
  }
  void sync_to_host() override { model_.load_weights(dev().weights()); }

 private:
  void upload() {
    dev_.reset();  // free the old copy first: a model near the GPU's memory would not fit twice
    dev_ = std::make_unique<DeviceTransformer>(model_.config(), model_.weights(), precision_);
  }
  // After an upload that threw (out of GPU memory, say) there is no device copy to use.
  DeviceTransformer& dev() const {
    if (!dev_) throw Error("the GPU copy of the model was lost when uploading it failed; restart from a checkpoint");
    return *dev_;
  }
  Transformer& model_;
  AdamWConfig cfg_;
  Precision precision_;
  std::map<std::string, bool> decay_;
  std::unique_ptr<DeviceTransformer> dev_;
};

}  // namespace

std::unique_ptr<TrainBackend> make_cuda_train_backend(Transformer& model, const AdamWConfig& cfg,
                                                      Precision precision) {
  return std::make_unique<CudaTrainBackend>(model, cfg, precision);
}

}  // namespace attnlab::cuda
