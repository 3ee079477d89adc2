// Training end to end on a copying task, determinism, and bit-identical resume.
#include <catch2/catch.hpp>
#include <cstring>

#include "core/io/checkpoint.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "core/train/trainer.h"
#include "tests/core/copy_source.h"
#include "tests/test_support.h"

using namespace attnlab;
using attnlab::test::CopySource;

TEST_CASE("a 2-layer model learns to copy (loss < 0.05)", "[train]") {
  Transformer model(test::copy_model_config());
  model.init_weights(1);
  CopySource train(16, 8, 16, 1), eval(16, 8, 16, 2);
  TrainConfig tc;
  tc.steps = 600;
  tc.lr = 3e-3f;
  tc.warmup = 30;
  tc.weight_decay = 0.0f;
  tc.eval_every = 0;
  tc.eval_batches = 4;
  Trainer trainer(model, tc, train, &eval);
  trainer.run();
  float loss = trainer.evaluate();
  INFO("eval loss after " << tc.steps << " steps: " << loss);
  CHECK(loss < 0.05f);
}

TEST_CASE("training is deterministic and resumes bit-identically", "[train][checkpoint]") {
  TrainConfig tc;
  tc.steps = 12;
  tc.lr = 1e-3f;
  tc.warmup = 3;
  tc.eval_every = 0;
  auto run = [&](int64_t stop_at, const std::string& ckpt, bool resume) {
    Transformer model(test::copy_model_config());
    model.init_weights(3);
    CopySource src(4, 6, 16, 4);
    Trainer t(model, tc, src, nullptr);
    if (resume) t.load_checkpoint(ckpt);
    while (t.current_step() < stop_at) t.step();
    if (!ckpt.empty() && !resume) t.save_checkpoint(ckpt);
    return model.weights();
  };
  auto dir = test::temp_dir("resume");
  std::string ckpt = (dir / "half.safetensors").string();
  auto straight = run(12, "", false);
  auto again = run(12, "", false);
  run(5, ckpt, false);
  auto resumed = run(12, ckpt, true);
  for (const auto& [name, t] : straight) {
    INFO(name);
    CHECK(std::memcmp(t.ptr(), again.at(name).ptr(), sizeof(float) * size_t(t.numel())) == 0);
    CHECK(std::memcmp(t.ptr(), resumed.at(name).ptr(), sizeof(float) * size_t(t.numel())) == 0);
  }
}

TEST_CASE("learning-rate schedule: linear warmup then cosine to min_lr", "[train]") {
  TrainConfig tc;
  tc.steps = 110;
  tc.warmup = 10;
  tc.lr = 1.0f;
  tc.min_lr_ratio = 0.1f;
  CHECK(lr_at_step(tc, 0) == Approx(0.1));
  CHECK(lr_at_step(tc, 9) == Approx(1.0));
  CHECK(lr_at_step(tc, 60) == Approx(0.55));
  CHECK(lr_at_step(tc, 110) == Approx(0.1));
}
