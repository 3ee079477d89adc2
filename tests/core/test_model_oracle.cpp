// One full training step (loss, logits and every parameter gradient) against a PyTorch
// reimplementation of the model (tests/oracle/model_ref.py), for GPT-2-, Llama- (GQA, RoPE)
// and GPT-NeoX-style (partial rotary, parallel residual) configs.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/model/transformer.h"
#include "core/tensor/rng.h"
#include "tests/test_support.h"

using namespace attnlab;

namespace {

ModelConfig small_config(const std::string& family) {
  ModelConfig c;
  c.vocab_size = 23;
  c.context = 16;
  c.d_model = 16;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 4;
  c.d_ff = 24;
  c.family = family;
  if (family == "gpt2") {
    c.pos = PosEncoding::learned;
    c.norm = NormKind::layernorm;
    c.mlp = MlpKind::gelu_tanh;
    c.bias = true;
  } else if (family == "llama") {
    c.n_kv_heads = 2;
    c.tied_embeddings = false;
  } else if (family == "gpt_neox") {
    c.norm = NormKind::layernorm;
    c.mlp = MlpKind::gelu;
    c.bias = true;
    c.rotary_pct = 0.5f;
    c.rope_style = RopeStyle::half;
    c.parallel_residual = true;
    c.tied_embeddings = false;
  } else if (family == "attn_only") {  // Olsson et al.'s attention-only models
    c.mlp = MlpKind::none;
    c.d_ff = 0;
  }
  return c;
}

Batch random_batch(int B, int T, int V, uint64_t seed) {
  Rng rng(seed);
  Batch b;
  b.resize(B, T);
  for (size_t i = 0; i < b.tokens.size(); ++i) {
    b.tokens[i] = int32_t(rng.below(V));
    b.targets[i] = int32_t(rng.below(V));
    b.mask[i] = rng.uniform() < 0.2 ? 0.0f : 1.0f;
  }
  return b;
}

}  // namespace

TEST_CASE("a full training step matches PyTorch", "[model][oracle]") {
  for (std::string family : {"gpt2", "llama", "gpt_neox", "attn_only"}) {
    DYNAMIC_SECTION(family) {
      ModelConfig cfg = small_config(family);
      Transformer model(cfg);
      model.init_weights(42);
      // Norm gains away from 1 so their gradients are exercised non-trivially.
      Rng rng(7);
      for (const Param& p : model.params())
        if (p.name.find("norm") != std::string::npos)
          for (float& w : p.value->data) w += float(rng.normal() * 0.1);
      Batch batch = random_batch(2, 11, cfg.vocab_size, 3);
      model.zero_grad();
      float loss = model.forward_loss(batch);
      model.backward();

      auto dir = test::temp_dir("model_" + family);
      std::map<std::string, Tensor> in = model.weights();
      Tensor tok({2, 11}), tgt({2, 11}), mask({2, 11});
      for (size_t i = 0; i < batch.tokens.size(); ++i) {
        tok.data[i] = float(batch.tokens[i]);
        tgt.data[i] = float(batch.targets[i]);
        mask.data[i] = batch.mask[i];
      }
      in["batch.tokens"] = tok;
      in["batch.targets"] = tgt;
      in["batch.mask"] = mask;
      write_safetensors((dir / "in.safetensors").string(), in,
                        {{"config", nlohmann::json(cfg).dump()}});
      test::run_oracle("model_ref.py", (dir / "in.safetensors").string() + " " +
                                           (dir / "out.safetensors").string());
      auto ref = read_safetensors((dir / "out.safetensors").string()).tensors;

      CHECK(test::max_rel_error({loss}, ref["loss"].data) < 1e-5);
      CHECK(test::max_rel_error(model.logits().data, ref["logits"].data) < 1e-4);
      for (const Param& p : model.params()) {
        INFO("gradient of " << p.name);
        REQUIRE(ref.count("grad." + p.name));
        CHECK(test::max_rel_error(p.grad->data, ref["grad." + p.name].data) < 1e-4);
      }
    }
  }
}

TEST_CASE("model gradients match central finite differences", "[model][fd]") {
  // Float32 finite differences: step 1e-2 on a tiny model, tolerance 2% of the gradient scale,
  // loose enough for float rounding yet far below what a wrong sign or missing term produces.
  ModelConfig cfg = small_config("llama");
  cfg.n_layers = 1;
  Transformer model(cfg);
  model.init_weights(5);
  Batch batch = random_batch(1, 6, cfg.vocab_size, 9);
  model.zero_grad();
  model.forward_loss(batch);
  model.backward();
  Rng pick(11);
  for (const Param& p : model.params()) {
    for (int trial = 0; trial < 3; ++trial) {
      size_t i = size_t(pick.below(p.value->numel()));
      float analytic = p.grad->data[i];
      float saved = p.value->data[i];
      const float h = 1e-2f;
      p.value->data[i] = saved + h;
      double lp = model.forward_loss(batch);
      p.value->data[i] = saved - h;
      double lm = model.forward_loss(batch);
      p.value->data[i] = saved;
      double numeric = (lp - lm) / (2 * h);
      INFO(p.name << "[" << i << "] analytic " << analytic << " numeric " << numeric);
      CHECK(std::fabs(analytic - numeric) < 0.02 * std::max(1e-2, std::fabs(numeric)) + 2e-4);
    }
  }
}

TEST_CASE("a forward over more rows than one projection chunk equals shorter forwards", "[model]") {
  // The q/k/v and output projections run over 4096 rows at a time; B = 2, T = 2100 puts a chunk
  // boundary inside the second sequence. GQA repeats kv heads inside the chunked split.
  ModelConfig c = preset_config("llama-tiny");
  c.context = 2100;
  REQUIRE(c.n_kv_heads < c.n_heads);
  REQUIRE(c.pos == PosEncoding::rope);
  Transformer m(c);
  m.init_weights(5);
  const int T = 2100, V = c.vocab_size;
  Rng rng(9);
  std::vector<int32_t> tokens(size_t(2) * T);
  for (int32_t& t : tokens) t = int32_t(rng.below(V));
  const std::vector<float> both = m.forward(tokens.data(), 2, T).data;
  const std::vector<float> kept = m.forward(tokens.data(), 2, T, true).data;
  for (int b = 0; b < 2; ++b) {
    const std::vector<float> one = m.forward(tokens.data() + size_t(b) * T, 1, T).data;
    float worst = 0, worst_kept = 0;
    for (size_t i = 0; i < one.size(); ++i) {
      worst = std::max(worst, std::fabs(one[i] - both[size_t(b) * T * V + i]));
      worst_kept = std::max(worst_kept, std::fabs(one[i] - kept[size_t(b) * T * V + i]));
    }
    CHECK(worst < 1e-5f);
    CHECK(worst_kept < 1e-5f);
  }
}
