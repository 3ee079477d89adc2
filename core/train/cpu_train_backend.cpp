// The reference backend: the Transformer's own forward/backward and the AdamW optimizer.
#include "core/train/train_backend.h"

namespace attnlab {

namespace {

class CpuTrainBackend final : public TrainBackend {
 public:
  CpuTrainBackend(Transformer& model, const AdamWConfig& cfg) : model_(model), opt_(model.params(), cfg) {}
  std::string describe() const override { return "cpu"; }
  float forward_loss(const Batch& batch) override { return model_.forward_loss(batch); }
  void backward() override { model_.backward(); }
  void zero_grad() override { model_.zero_grad(); }
  float clip_grad_norm(float max_norm) override { return opt_.clip_grad_norm(max_norm); }
  void adamw_step(float lr) override { opt_.step(lr); }
  std::map<std::string, Tensor> optimizer_state() const override { return opt_.state(); }
  int64_t optimizer_step() const override { return opt_.t(); }
  void load_state(const std::map<std::string, Tensor>& state, int64_t t) override { opt_.load_state(state, t); }
  void sync_to_host() override {}

 private:
  Transformer& model_;
  AdamW opt_;
};

}  // namespace

std::unique_ptr<TrainBackend> make_cpu_train_backend(Transformer& model, const AdamWConfig& cfg) {
  return std::make_unique<CpuTrainBackend>(model, cfg);
}

}  // namespace attnlab
