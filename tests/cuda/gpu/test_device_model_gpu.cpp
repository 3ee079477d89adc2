// The GPU inference path of a whole model against the CPU Transformer: logits, and the fused
// statistics of every layer and head against the reference statistics of the CPU model's own
// q and k (taken from its attention observer).
#include <catch2/catch.hpp>

#include "core/cuda/device_model.h"
#include "core/cuda/reference.h"
#include "core/model/transformer.h"
#include "gpu_check.h"

using namespace attnlab;
using namespace attnlab::cuda;
using namespace attnlab::cuda::test;

namespace {

// Captures each layer's q, k (already expanded to H heads) and runs the CPU reference statistics.
struct StatsObserver : ForwardObserver {
  std::vector<StreamStats> stats;
  const int32_t* tokens = nullptr;
  int window = 0, sinks = 0;  // the layers' mask (gpu_attention_spec of the model's spec)
  void on_attention(const LayerAttentionView& v) override {
    const AttnShape& s = v.inputs->shape;
    AttnDims d;
    d.B = s.B, d.Hq = s.H, d.Hkv = s.H, d.T = s.T, d.Dh = s.Dh, d.window = window, d.sinks = sinks;
    StreamStats st;
    std::vector<int> tok(tokens, tokens + int64_t(s.B) * s.T);
    ref::attention_stats(d, v.inputs->q, v.inputs->k, tok.data(), st);
    stats.push_back(std::move(st));
  }
};

ModelConfig llama_like() {
  ModelConfig c;
  c.family = "llama";
  c.vocab_size = 61, c.context = 48, c.d_model = 32, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.d_ff = 64;
  c.pos = PosEncoding::rope, c.norm = NormKind::rmsnorm, c.mlp = MlpKind::swiglu, c.bias = false;
  c.rope_style = RopeStyle::half;
  return c;
}
ModelConfig gpt2_like(bool parallel) {
  ModelConfig c;
  c.family = parallel ? "gpt_neox" : "gpt2";
  c.vocab_size = 53, c.context = 40, c.d_model = 48, c.n_layers = 2, c.n_heads = 3, c.n_kv_heads = 3, c.d_ff = 96;
  c.pos = parallel ? PosEncoding::rope : PosEncoding::learned;
  c.rotary_pct = 0.25f;
  c.norm = NormKind::layernorm, c.mlp = parallel ? MlpKind::gelu : MlpKind::gelu_tanh, c.bias = true;
  c.parallel_residual = parallel, c.tied_embeddings = !parallel;
  return c;
}
// Dh 48 (a half-empty second chunk per lane), 2:1 GQA, interleaved RoPE, window with sinks.
ModelConfig windowed() {
  ModelConfig c = llama_like();
  c.family = "llama-window", c.d_model = 96, c.n_heads = 2, c.n_kv_heads = 1;
  c.rope_style = RopeStyle::interleaved, c.attention = {"softmax+window(size=6,sinks=2)"};
  return c;
}

}  // namespace

TEST_CASE("gpu model forward and statistics match the CPU Transformer", "[gpu][model]") {
  for (const ModelConfig& cfg : {llama_like(), gpt2_like(false), gpt2_like(true), windowed()}) {
    INFO(cfg.family);
    Transformer cpu(cfg);
    cpu.init_weights(5);
    const int B = 2, T = 37;
    Rng rng(9);
    std::vector<int32_t> tok(size_t(B) * T);
    for (auto& t : tok) t = int32_t(rng.below(8));  // few distinct tokens: induction sums are non-zero
    StatsObserver obs;
    obs.tokens = tok.data();
    const GpuAttentionSpec mask = gpu_attention_spec(cfg.attention[0]);
    obs.window = mask.window, obs.sinks = mask.sinks;
    cpu.add_observer(&obs);
    const Tensor& want = cpu.forward(tok.data(), B, T);
    DeviceTransformer gpu(cfg, cpu.weights());
    Tensor got;
    std::vector<StreamStats> stats;
    gpu.forward(tok.data(), B, T, &got, &stats);
    expect_close(got.data, want.data, "logits " + cfg.family);
    REQUIRE(stats.size() == obs.stats.size());
    for (size_t l = 0; l < stats.size(); ++l) {
      expect_close(stats[l].col_mass, obs.stats[l].col_mass, "col_mass");
      expect_close(stats[l].entropy, obs.stats[l].entropy, "entropy");
      expect_close(stats[l].prev_token, obs.stats[l].prev_token, "prev_token");
      expect_close(stats[l].induction, obs.stats[l].induction, "induction");
      expect_close(stats[l].duplicate, obs.stats[l].duplicate, "duplicate");
      expect_close(stats[l].row_max, obs.stats[l].row_max, "row_max");
      expect_close(stats[l].topk_mass, obs.stats[l].topk_mass, "topk_mass");
    }
  }
}

TEST_CASE("gpu model rejects what it cannot run", "[gpu][model]") {
  ModelConfig cfg = llama_like();
  Transformer cpu(cfg);
  cpu.init_weights(1);
  auto w = cpu.weights();
  w.erase("layers.1.mlp.w3.weight");
  CHECK_THROWS_WITH(DeviceTransformer(cfg, w), Catch::Contains("layers.1.mlp.w3.weight"));
  w = cpu.weights();
  w["layers.0.attn.wq.bias"] = Tensor({cfg.d_model});  // this config has no biases
  CHECK_THROWS_WITH(DeviceTransformer(cfg, w), Catch::Contains("unexpected weight 'layers.0.attn.wq.bias'"));
  DeviceTransformer gpu(cfg, cpu.weights());
  std::vector<int32_t> bad = {1, 2, 999};
  CHECK_THROWS_WITH(gpu.forward(bad.data(), 1, 3, nullptr, nullptr), Catch::Contains("token 999"));
}

namespace {
// Cuts one tile out of the CPU model's own pattern rows for (layer, b, h).
struct TileObserver : ForwardObserver {
  int layer = 0;
  TileRequest r;
  std::vector<float> tile;
  void on_attention(const LayerAttentionView& v) override {
    if (v.layer != layer) return;
    const int w = r.j1 - r.j0;
    tile.assign(size_t(r.t1 - r.t0) * w, 0.0f);
    v.attention->pattern(*v.inputs, r.b, r.h, [&](int t, const float* row) {
      if (t < r.t0 || t >= r.t1) return;
      for (int j = r.j0; j < r.j1 && j <= t; ++j) tile[size_t(t - r.t0) * w + (j - r.j0)] = row[j];
    });
  }
};
}  // namespace

TEST_CASE("gpu model recomputes a tile of one head's map as the CPU model draws it", "[gpu][model][tile]") {
  for (const std::string& spec : {std::string("softmax"), std::string("softmax+window(size=5,sinks=2)")}) {
    ModelConfig cfg = llama_like();
    cfg.attention = {spec};
    INFO(spec);
    Transformer cpu(cfg);
    cpu.init_weights(6);
    const int B = 2, T = 40;
    Rng rng(10);
    std::vector<int32_t> tok(size_t(B) * T);
    for (auto& t : tok) t = int32_t(rng.below(cfg.vocab_size));
    TileObserver obs;
    obs.layer = 1;
    obs.r = TileRequest{1, 3, 7, 33, 2, 30};
    cpu.add_observer(&obs);
    cpu.forward(tok.data(), B, T);
    DeviceTransformer gpu(cfg, cpu.weights());
    expect_close(gpu.attention_tile(tok.data(), B, T, 1, obs.r), obs.tile, "tile " + spec);
    CHECK_THROWS_WITH(gpu.attention_tile(tok.data(), B, T, 5, obs.r), Catch::Contains("layer 5"));
  }
}
