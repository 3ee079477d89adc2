// Which attention specs the fused kernels take (host-side parsing, no GPU needed); the GPU model
// runs the others through their CPU implementation.
#include <catch2/catch.hpp>

#include "core/cuda/gpu_spec.h"
#include "core/tensor/error.h"

using namespace attnlab;
using namespace attnlab::cuda;

TEST_CASE("GPU attention specs: softmax with an optional window and sinks", "[cuda][spec]") {
  CHECK(gpu_attention_spec("softmax").window == 0);
  const GpuAttentionSpec w = gpu_attention_spec("window(size=64,sinks=4)");
  CHECK(w.window == 64);
  CHECK(w.sinks == 4);
  const GpuAttentionSpec sw = gpu_attention_spec("softmax+window(size=8)");
  CHECK(sw.window == 8);
  CHECK(sw.sinks == 0);
  CHECK_THROWS_WITH(gpu_attention_spec("sigmoid(bias=-2)"), Catch::Contains("no fused CUDA kernel"));
  CHECK_THROWS_AS(gpu_attention_spec("window(size=0)"), Error);
  CHECK_THROWS_AS(gpu_attention_spec("window(size=4,stride=2)"), Error);
  CHECK_THROWS_AS(gpu_attention_spec("softmax(temperature=2)"), Error);
  // Only masks may follow the variant (make_attention rejects these, so must the GPU).
  CHECK_THROWS_AS(gpu_attention_spec("window(size=4)+softmax"), Error);
  CHECK_THROWS_AS(gpu_attention_spec("softmax+softmax"), Error);
  // ALiBi runs in the same kernels (a per-head bias), alone or under a window.
  CHECK(gpu_attention_spec("alibi").alibi);
  CHECK_FALSE(gpu_attention_spec("softmax").alibi);
  const GpuAttentionSpec aw = gpu_attention_spec("alibi+window(size=16,sinks=2)");
  CHECK((aw.alibi && aw.window == 16 && aw.sinks == 2));
  CHECK_THROWS_AS(gpu_attention_spec("softmax+alibi"), Error);
  CHECK_THROWS_AS(gpu_attention_spec("alibi(slope=2)"), Error);
  CHECK_THROWS_AS(gpu_attention_spec("softmax+window(size=4)+window(size=2)"), Error);
}

#include <set>

#include "core/model/transformer.h"

TEST_CASE("the GPU model reads exactly the weights the CPU Transformer has, by the same names", "[cuda][spec]") {
  std::vector<ModelConfig> cfgs;
  for (const char* name : {"tiny", "small", "gpt2-bench", "llama-tiny"}) cfgs.push_back(preset_config(name));
  ModelConfig neox = preset_config("tiny");
  neox.norm = NormKind::layernorm, neox.bias = true, neox.parallel_residual = true, neox.tied_embeddings = false;
  neox.pos = PosEncoding::learned, neox.mlp = MlpKind::gelu;
  cfgs.push_back(neox);
  for (ModelConfig cfg : cfgs) {
    cfg.context = std::min(cfg.context, 64);  // the weights' names do not depend on size
    cfg.vocab_size = std::min(cfg.vocab_size, 300);
    INFO(cfg.family << " " << to_string(cfg.norm) << " bias " << cfg.bias);
    Transformer cpu(cfg);
    std::set<std::string> have;
    for (const auto& [name, t] : cpu.weights()) have.insert(name);
    for (const std::string& n : required_weight_names(cfg)) CHECK(have.count(n));
    const std::vector<std::string> known = known_weight_names(cfg);
    const std::set<std::string> known_set(known.begin(), known.end());
    for (const std::string& n : have)
      if (n.find(".attn.variant.") == std::string::npos) CHECK(known_set.count(n));
    for (const std::string& n : known) CHECK(have.count(n));  // exact: no phantom biases
  }
}
