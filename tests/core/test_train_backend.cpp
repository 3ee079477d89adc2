// The Trainer's backend contract without a GPU: a "shadow" backend trains its own copy of the
// model, as the CUDA backend does, so these tests prove that the Trainer reads weights back
// before every checkpoint and at the end, and that checkpoints move between backends.
#include <catch2/catch.hpp>
#include <cstring>
#include <memory>

#include "core/train/trainer.h"
#include "tests/core/copy_source.h"
#include "tests/test_support.h"

using namespace attnlab;
using attnlab::test::CopySource;

namespace {

// Trains a second Transformer ("device memory") and copies its weights to the host model
// only when asked, like core/cuda/train_backend.cpp.
class ShadowBackend final : public TrainBackend {
 public:
  ShadowBackend(Transformer& host, const AdamWConfig& cfg) : host_(host), copy_(host.config()), cfg_(cfg) { upload(); }
  std::string describe() const override { return "shadow"; }
  float forward_loss(const Batch& b) override { return copy_.forward_loss(b); }
  void backward() override { copy_.backward(); }
  void zero_grad() override { copy_.zero_grad(); }
  float clip_grad_norm(float max_norm) override { return opt_->clip_grad_norm(max_norm); }
  void adamw_step(float lr) override { opt_->step(lr); }
  std::map<std::string, Tensor> optimizer_state() const override { return opt_->state(); }
  int64_t optimizer_step() const override { return opt_->t(); }
  void load_state(const std::map<std::string, Tensor>& state, int64_t t) override {
    upload();
    opt_->load_state(state, t);
  }
  void sync_to_host() override {
    ++syncs;
    host_.load_weights(copy_.weights());
  }
  int syncs = 0;

 private:
  void upload() {
    copy_.load_weights(host_.weights());
    opt_ = std::make_unique<AdamW>(copy_.params(), cfg_);
  }
  Transformer& host_;
  Transformer copy_;
  AdamWConfig cfg_;
  std::unique_ptr<AdamW> opt_;
};


TrainConfig short_run() {
  TrainConfig tc;
  tc.steps = 12;
  tc.lr = 1e-3f;
  tc.warmup = 3;
  tc.eval_every = 0;
  return tc;
}

// Trains from seed 3 to `stop_at` steps, resuming from `resume_from` when given and saving to
// `save_to` when given; `shadow` picks the backend. Returns the host model's final weights.
std::map<std::string, Tensor> train(bool shadow, int64_t stop_at, const std::string& resume_from = "",
                                    const std::string& save_to = "") {
  const TrainConfig tc = short_run();
  Transformer model(test::copy_model_config());
  model.init_weights(3);
  CopySource src(4, 6, 16, 4);
  std::unique_ptr<TrainBackend> backend;
  if (shadow) backend = std::make_unique<ShadowBackend>(model, adamw_config(tc));
  Trainer t(model, tc, src, nullptr, std::move(backend));
  if (!resume_from.empty()) t.load_checkpoint(resume_from);
  while (t.current_step() < stop_at) t.step();
  if (!save_to.empty()) t.save_checkpoint(save_to);
  return t.model().weights();
}

void require_identical(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  REQUIRE(a.size() == b.size());
  for (const auto& [name, t] : a) {
    INFO(name);
    REQUIRE(b.count(name));
    CHECK(std::memcmp(t.ptr(), b.at(name).ptr(), sizeof(float) * size_t(t.numel())) == 0);
  }
}

}  // namespace

TEST_CASE("a device-style backend trains exactly like the CPU and syncs on demand", "[train][backend]") {
  require_identical(train(false, 12), train(true, 12));

  Transformer model(test::copy_model_config());
  model.init_weights(3);
  const auto initial = model.weights();
  CopySource src(4, 6, 16, 4);
  auto backend = std::make_unique<ShadowBackend>(model, adamw_config(short_run()));
  ShadowBackend* shadow = backend.get();
  Trainer t(model, short_run(), src, nullptr, std::move(backend));
  t.step();
  t.step();
  // Steps leave the host copy alone (a GPU step must not download the weights)...
  CHECK(shadow->syncs == 0);
  require_identical(model.weights(), initial);
  // ...and model() brings it up to date once, not on every call.
  t.model();
  t.model();
  CHECK(shadow->syncs == 1);
  CHECK(std::memcmp(model.weights().at("tok_emb.weight").ptr(), initial.at("tok_emb.weight").ptr(),
                    sizeof(float) * size_t(initial.at("tok_emb.weight").numel())) != 0);
}

TEST_CASE("checkpoints move between backends and resume bit-identically", "[train][backend][checkpoint]") {
  auto dir = test::temp_dir("backend-resume");
  const std::string from_shadow = (dir / "shadow.safetensors").string();
  const std::string from_cpu = (dir / "cpu.safetensors").string();
  const auto straight = train(false, 12);
  // Saved mid-run by the device-style backend: the checkpoint must hold the trained weights
  // (not the stale host copy) and its optimizer state, so the CPU continues exactly.
  train(true, 5, "", from_shadow);
  require_identical(straight, train(false, 12, from_shadow));
  // And the other way round.
  train(false, 7, "", from_cpu);
  require_identical(straight, train(true, 12, from_cpu));
}

TEST_CASE("Trainer::run leaves the trained weights in the host model", "[train][backend]") {
  Transformer model(test::copy_model_config());
  model.init_weights(3);
  CopySource src(4, 6, 16, 4);
  const TrainConfig tc = short_run();
  Trainer t(model, tc, src, nullptr, std::make_unique<ShadowBackend>(model, adamw_config(tc)));
  t.run();
  require_identical(model.weights(), train(false, 12));
}
