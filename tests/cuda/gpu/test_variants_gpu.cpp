// Every registered attention variant (each of its test specs) under the GPU model: the fused
// kernels for softmax/window, the generic host path for the rest. Logits and all gradients of
// one training step must match the CPU Transformer.
#include <catch2/catch.hpp>

#include "core/attention/attention.h"
#include "core/cuda/device_model.h"
#include "core/model/transformer.h"
#include "step_check.h"

using namespace attnlab;
using namespace attnlab::cuda;
using namespace attnlab::cuda::test;

TEST_CASE("gpu model matches the CPU model for every registered attention variant", "[gpu][variants]") {
  int checked = 0, fused = 0;
  for (const VariantInfo& info : attention_variants())
    for (const std::string& spec : info.test_specs) {
      INFO("attention " << spec);
      ModelConfig cfg;
      cfg.vocab_size = 29, cfg.context = 24, cfg.d_model = 32, cfg.n_layers = 2, cfg.n_heads = 4;
      cfg.n_kv_heads = 2, cfg.d_ff = 48, cfg.pos = PosEncoding::rope, cfg.norm = NormKind::rmsnorm;
      cfg.mlp = MlpKind::swiglu, cfg.attention = {spec};
      Transformer cpu(cfg);
      cpu.init_weights(11);
      DeviceTransformer gpu(cfg, cpu.weights());
      try {
        gpu_attention_spec(spec);
        ++fused;
      } catch (const Error&) {
      }
      Rng rng(13);
      Batch batch;
      batch.resize(2, 19);
      for (auto& t : batch.tokens) t = int32_t(rng.below(cfg.vocab_size));
      for (auto& t : batch.targets) t = int32_t(rng.below(cfg.vocab_size));
      expect_step_matches(cpu, gpu, batch, spec);
      ++checked;
    }
  WARN(checked << " variant specs checked, " << fused << " of them on the fused kernels");
  CHECK(checked > 0);
}
