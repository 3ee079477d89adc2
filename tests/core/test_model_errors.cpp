// Bad input to the model and its checkpoints gives clear errors, never a crash.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/checkpoint.h"
#include "core/io/open_model.h"
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

TEST_CASE("open_model reads an attnlab checkpoint straight into its model, --context included",
          "[checkpoint]") {
  auto dir = test::temp_dir("open_attnlab");
  ModelConfig c = preset_config("tiny");
  c.pos = PosEncoding::learned;
  Transformer m(c);
  m.init_weights(3);
  const std::string path = (dir / "m.safetensors").string();
  CheckpointExtras extras;
  extras.tensors["optimizer.step"] = Tensor({1}, 7.0f);
  save_checkpoint(path, m, extras);
  const auto want = m.weights();

  OpenedModel direct = open_model(path);
  CHECK(direct.format == "attnlab");
  for (const auto& [name, t] : direct.model->weights()) CHECK(t.data == want.at(name).data);
  // load_checkpoint keeps its named weights (moved out of the reader's model, not copied).
  LoadedModel lm = load_checkpoint(path);
  CHECK(lm.weights.size() == want.size());
  CHECK(lm.weights.at("pos_emb.weight").data == want.at("pos_emb.weight").data);
  // The extra tensors of a training state stay out of the model.
  CHECK(load_attnlab_checkpoint(path).extras.tensors.at("optimizer.step").data[0] == 7.0f);

  LoadOptions shorter;
  shorter.context = 16;
  OpenedModel cut = open_model(path, shorter);
  CHECK(cut.model->config().context == 16);
  const auto& pos = want.at("pos_emb.weight");
  const std::vector<float> first16(pos.data.begin(), pos.data.begin() + 16 * c.d_model);
  CHECK(cut.model->weights().at("pos_emb.weight").data == first16);
  LoadOptions longer;
  longer.context = 128;
  CHECK_THROWS_WITH(open_model(path, longer), Contains("exceeds the 64 learned positions"));
}

TEST_CASE("load_weight checks the name and shape of the one tensor it moves in",
          "[errors][checkpoint]") {
  Transformer m(preset_config("tiny"));
  CHECK_THROWS_WITH(m.load_weight("no.such.weight", Tensor({3})),
                    Contains("unexpected tensor 'no.such.weight'"));
  CHECK_THROWS_WITH(m.load_weight("final_norm.weight", Tensor({3})), Contains("has shape"));
  Tensor ok({m.config().d_model}, 2.5f);
  m.load_weight("final_norm.weight", std::move(ok));
  CHECK(m.weights().at("final_norm.weight").data ==
        std::vector<float>(size_t(m.config().d_model), 2.5f));
}
