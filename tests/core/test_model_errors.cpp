// Bad input to the model and its checkpoints gives clear errors, never a crash.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"
#include "core/tensor/error.h"
#include "tests/test_support.h"

using namespace attnlab;
using Catch::Contains;

TEST_CASE("inconsistent configs are rejected with the reason", "[errors]") {
  ModelConfig c = preset_config("tiny");
  c.d_model = 66;
  CHECK_THROWS_WITH(Transformer(c), Contains("not divisible by n_heads"));
  c = preset_config("tiny");
  c.n_kv_heads = 3;
  CHECK_THROWS_WITH(Transformer(c), Contains("not a multiple of n_kv_heads"));
  c = preset_config("tiny");
  c.attention = {"softmax", "softmax", "softmax"};
  CHECK_THROWS_WITH(Transformer(c), Contains("3 specs for 2 layers"));
  CHECK_THROWS_WITH(preset_config("huge"), Contains("presets: tiny"));
  c = preset_config("tiny");
  c.d_ff = 0;
  CHECK_THROWS_WITH(Transformer(c), Contains("d_ff"));
}

TEST_CASE("attention-only blocks (mlp = none) have no MLP weights and round-trip", "[model]") {
  ModelConfig c = preset_config("tiny");
  c.mlp = MlpKind::none;
  c.d_ff = 0;
  Transformer m(c);
  for (const Param& p : m.params()) CHECK(p.name.find("mlp") == std::string::npos);
  const uint64_t D = c.d_model, V = c.vocab_size;  // tiny: tied embeddings, n_kv_heads = n_heads
  CHECK(config_weight_count(c) == V * D + uint64_t(c.n_layers) * 4 * D * D);
  ModelConfig back = nlohmann::json(c).get<ModelConfig>();
  CHECK(back.mlp == MlpKind::none);
}

TEST_CASE("an unknown attention name lists the variants", "[errors]") {
  ModelConfig c = preset_config("tiny");
  c.attention = {"softmaxx"};
  CHECK_THROWS_WITH(Transformer(c), Contains("softmax") && Contains("sigmoid"));
}

TEST_CASE("a sequence longer than the context and bad tokens are errors", "[errors]") {
  ModelConfig c = preset_config("tiny");
  Transformer m(c);
  m.init_weights(0);
  std::vector<int32_t> long_seq(size_t(c.context + 1), 1);
  CHECK_THROWS_WITH(m.forward(long_seq.data(), 1, int(long_seq.size())),
                    Contains("longer than the model's context"));
  std::vector<int32_t> bad{1, 2, c.vocab_size};
  CHECK_THROWS_WITH(m.forward(bad.data(), 1, 3), Contains("outside the vocabulary"));
  SampleOptions so;
  CHECK_THROWS_WITH(generate(m, long_seq, so), Contains("longer than the model's context"));
}

TEST_CASE("truncated and corrupted checkpoints give clear errors", "[errors][checkpoint]") {
  auto dir = test::temp_dir("badckpt");
  Transformer m(preset_config("tiny"));
  m.init_weights(0);
  std::string good = (dir / "good.safetensors").string();
  save_checkpoint(good, m);
  auto reloaded = load_attnlab_checkpoint(good);
  CHECK(reloaded.model->weights().at("tok_emb.weight").data ==
        m.weights().at("tok_emb.weight").data);

  auto size = std::filesystem::file_size(good);
  std::string truncated = (dir / "truncated.safetensors").string();
  std::filesystem::copy_file(good, truncated);
  std::filesystem::resize_file(truncated, size / 2);
  CHECK_THROWS_AS(load_attnlab_checkpoint(truncated), Error);

  std::string garbage = (dir / "garbage.safetensors").string();
  std::ofstream(garbage) << "this is not a checkpoint";
  CHECK_THROWS_AS(load_attnlab_checkpoint(garbage), Error);

  std::string missing = (dir / "nope.safetensors").string();
  CHECK_THROWS_AS(load_attnlab_checkpoint(missing), Error);

  // A checkpoint whose tensor is missing, or has the wrong shape, names that tensor.
  auto w = m.weights();
  std::map<std::string, std::string> meta{{"attnlab.config", nlohmann::json(m.config()).dump()}};
  auto w_missing = w;
  w_missing.erase("layers.1.attn.wq.weight");
  std::string missing_tensor = (dir / "missing_tensor.safetensors").string();
  write_safetensors(missing_tensor, w_missing, meta);
  CHECK_THROWS_WITH(load_attnlab_checkpoint(missing_tensor), Contains("layers.1.attn.wq.weight"));
  auto w_shape = w;
  w_shape["final_norm.weight"] = Tensor({3});
  std::string bad_shape = (dir / "bad_shape.safetensors").string();
  write_safetensors(bad_shape, w_shape, meta);
  CHECK_THROWS_WITH(load_attnlab_checkpoint(bad_shape), Contains("final_norm.weight"));
}
