// In-context linear regression (Garg et al. 2022) through the model's continuous read-in and
// scalar read-out: gradients against finite differences, and a small "tiny"-config model
// (3 layers, d=64, 2 heads) that learns to beat the averaging baseline within the CI budget.
#include <catch2/catch.hpp>
#include <cmath>

#include "core/train/trainer.h"
#include "datasets/task_registry.h"

using namespace attnlab;

namespace {

ModelConfig regression_model(int dim, int len) {
  ModelConfig c = preset_config("tiny");
  c.family = "gpt2";
  c.input_dim = dim;
  c.context = len;
  c.n_layers = 3;
  c.d_model = 64;
  c.n_heads = 2;
  c.n_kv_heads = 2;
  c.d_ff = 256;
  c.pos = PosEncoding::learned;
  c.norm = NormKind::layernorm;
  c.mlp = MlpKind::gelu;
  c.bias = true;
  return c;
}

double metric(const std::vector<TaskMetric>& ms, const std::string& name) {
  for (const TaskMetric& m : ms)
    if (m.name == name) return m.value;
  FAIL("no metric " << name);
  return 0;
}

}  // namespace

TEST_CASE("continuous read-in/read-out gradients match finite differences", "[regression]") {
  auto task = make_task("linear_regression(dim=3,points=4,batch=2)");
  Batch batch;
  task->next(batch);
  ModelConfig cfg = regression_model(3, batch.T);
  cfg.n_layers = 1;
  cfg.d_model = 16;
  cfg.d_ff = 32;
  Transformer model(cfg);
  model.init_weights(2);
  model.zero_grad();
  model.forward_loss(batch);
  model.backward();
  for (const std::string name : {"read_in.weight", "read_out.weight", "read_out.bias", "pos_emb.weight"}) {
    for (const Param& p : model.params()) {
      if (p.name != name) continue;
      for (size_t i : {size_t(0), size_t(p.value->numel() / 2)}) {
        float saved = p.value->data[i];
        const float h = 1e-2f;
        p.value->data[i] = saved + h;
        double lp = model.forward_loss(batch);
        p.value->data[i] = saved - h;
        double lm = model.forward_loss(batch);
        p.value->data[i] = saved;
        double numeric = (lp - lm) / (2 * h);
        INFO(name << "[" << i << "] analytic " << p.grad->data[i] << " numeric " << numeric);
        CHECK(std::fabs(p.grad->data[i] - numeric) < 0.02 * std::max(1e-2, std::fabs(numeric)) + 2e-4);
      }
    }
  }
  CHECK_THROWS_WITH(model.forward(batch.tokens.data(), batch.B, batch.T),
                    Catch::Contains("continuous inputs"));
}

TEST_CASE("a tiny transformer learns in-context linear regression", "[regression][train]") {
  auto train = make_task("linear_regression(dim=5,points=11,batch=32,seed=1)");
  auto eval = make_task("linear_regression(dim=5,points=11,batch=256,seed=2)");
  Batch probe;
  eval->next(probe);
  Transformer model(regression_model(5, probe.T));
  model.init_weights(0);
  TrainConfig tc;
  tc.steps = 300;
  tc.lr = 1e-3f;
  tc.warmup = 20;
  tc.weight_decay = 0.0f;
  tc.eval_every = 0;
  Trainer trainer(model, tc, *train, nullptr);
  trainer.run();
  Tensor pred = model.forward_continuous(probe.features.data(), probe.B, probe.T);
  auto ms = eval->score(probe, pred);
  double ours = metric(ms, "squared_error"), avg = metric(ms, "averaging_squared_error"),
         ols = metric(ms, "ols_squared_error");
  INFO("squared error: model " << ours << ", averaging " << avg << ", least squares " << ols);
  CHECK(ours < avg);
}
