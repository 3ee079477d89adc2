// Training on the GPU against the CPU Transformer and AdamW: loss, every parameter gradient,
// and a short loss curve.
#include <catch2/catch.hpp>

#include "core/cuda/device_model.h"
#include "core/model/transformer.h"
#include "core/train/adamw.h"
#include "step_check.h"

using namespace attnlab;
using namespace attnlab::cuda;
using namespace attnlab::cuda::test;

namespace {
ModelConfig tiny(bool llama) {
  ModelConfig c;
  c.vocab_size = 45, c.context = 40, c.n_layers = 2, c.d_ff = 64;
  if (llama) {
    c.family = "llama", c.d_model = 32, c.n_heads = 4, c.n_kv_heads = 2;
    c.pos = PosEncoding::rope, c.norm = NormKind::rmsnorm, c.mlp = MlpKind::swiglu, c.bias = false;
  } else {
    c.family = "gpt2", c.d_model = 36, c.n_heads = 3, c.n_kv_heads = 3;
    c.pos = PosEncoding::learned, c.norm = NormKind::layernorm, c.mlp = MlpKind::gelu_tanh, c.bias = true;
  }
  return c;
}
// GPT-NeoX/Pythia: parallel residual, untied head, half-style RoPE on a quarter of each head,
// LayerNorm, exact GELU, biases.
ModelConfig tiny_neox() {
  ModelConfig c = tiny(false);
  c.family = "gpt_neox", c.pos = PosEncoding::rope, c.rope_style = RopeStyle::half, c.rotary_pct = 0.25f;
  c.mlp = MlpKind::gelu, c.parallel_residual = true, c.tied_embeddings = false;
  return c;
}
// 4:1 GQA under a sliding window with sinks (the fused kernels' mask), Dh 12, untied head.
ModelConfig tiny_windowed() {
  ModelConfig c = tiny(true);
  c.family = "llama-window", c.d_model = 48, c.n_heads = 4, c.n_kv_heads = 1, c.tied_embeddings = false;
  c.attention = {"softmax+window(size=5,sinks=2)"};
  return c;
}

Batch random_batch(int B, int T, int V, Rng& rng) {
  Batch b;
  b.resize(B, T);
  for (auto& t : b.tokens) t = int32_t(rng.below(V));
  for (auto& t : b.targets) t = int32_t(rng.below(V));
  for (int i = 0; i < T / 4; ++i) b.mask[size_t(i)] = 0.0f;  // unscored prefix of row 0
  return b;
}
}  // namespace

TEST_CASE("gpu training step: loss and every gradient match the CPU model", "[gpu][train]") {
  for (const ModelConfig& cfg : {tiny(true), tiny(false), tiny_neox(), tiny_windowed()}) {
    INFO(cfg.family);
    Transformer cpu(cfg);
    cpu.init_weights(3);
    DeviceTransformer gpu(cfg, cpu.weights());
    Rng rng(4);
    const Batch batch = random_batch(2, 33, cfg.vocab_size, rng);
    expect_step_matches(cpu, gpu, batch, cfg.family);
  }
}

namespace {
void check_loss_curve(const ModelConfig& cfg) {
  INFO(cfg.family);
  Transformer cpu(cfg);
  cpu.init_weights(8);
  DeviceTransformer gpu(cfg, cpu.weights());
  AdamWConfig ac;
  AdamW opt(cpu.params(), ac);
  std::map<std::string, bool> decay;
  for (const Param& p : cpu.params()) decay[p.name] = p.decay;
  Rng rng(5);
  const Batch batch = random_batch(2, 32, cfg.vocab_size, rng);
  std::vector<float> curve_cpu, curve_gpu;
  for (int step = 0; step < 8; ++step) {
    cpu.zero_grad();
    curve_cpu.push_back(cpu.forward_loss(batch));
    cpu.backward();
    const float nc = opt.clip_grad_norm(1.0f);
    opt.step(3e-3f);
    gpu.zero_grad();
    curve_gpu.push_back(gpu.forward_loss(batch));
    gpu.backward();
    const float ng = gpu.clip_grad_norm(1.0f);
    gpu.adamw_step(3e-3f, ac, decay);
    CHECK(ng == Approx(nc).epsilon(1e-4));
  }
  // Adam normalizes updates, so tiny gradient differences grow a little step by step.
  expect_close(curve_gpu, curve_cpu, "loss curve", 1e-3);
  CHECK(curve_gpu.back() < curve_gpu.front());
  const auto wg = gpu.weights(), wc = cpu.weights();
  for (const auto& [name, t] : wc) expect_close_scaled(wg.at(name).data, t.data, "weights after 8 steps " + name, 1e-3);
  // Optimizer state round-trips in AdamW's naming, so checkpoints resume across devices.
  const auto sg = gpu.optimizer_state(), sc = opt.state();
  REQUIRE(sg.size() == sc.size());
  for (const auto& [name, t] : sc) expect_close_scaled(sg.at(name).data, t.data, name, 1e-3);
  CHECK(gpu.optimizer_step() == opt.t());
  DeviceTransformer resumed(cfg, wg);
  resumed.load_optimizer_state(sg, gpu.optimizer_step());
  for (auto* m : {&gpu, &resumed}) {
    m->zero_grad();
    m->forward_loss(batch);
    m->backward();
    m->clip_grad_norm(1.0f);
    m->adamw_step(3e-3f, ac, decay);
  }
  const auto a = gpu.weights(), b = resumed.weights();
  for (const auto& [name, t] : a) expect_close(b.at(name).data, t.data, "resumed " + name, 1e-6);
}
}  // namespace

TEST_CASE("gpu training run follows the CPU loss curve", "[gpu][train]") {
  // Tied head (its gradient sums both uses) and untied head with parallel residual.
  check_loss_curve(tiny(true));
  check_loss_curve(tiny_neox());
}

TEST_CASE("gpu training rejects batches it cannot train on", "[gpu][train]") {
  const ModelConfig cfg = tiny(true);
  Transformer cpu(cfg);
  cpu.init_weights(1);
  DeviceTransformer gpu(cfg, cpu.weights());
  Batch b;
  b.resize(1, 4);
  b.mask[1] = 0.5f;
  CHECK_THROWS_WITH(gpu.forward_loss(b), Catch::Contains("0/1 loss masks"));
  b.mask.assign(4, 0.0f);
  CHECK_THROWS_WITH(gpu.forward_loss(b), Catch::Contains("all zero"));
  CHECK_THROWS_WITH(gpu.backward(), Catch::Contains("forward_loss first"));
}
