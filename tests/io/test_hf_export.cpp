// Exporting our models as Hugging Face folders: the files are checked by the PyTorch HF-semantics
// reference (tests/oracle/hf_arch_ref.py reads config.json + model.safetensors as transformers
// would), and read back by our own loader to the same logits. Also our own checkpoints through
// load_checkpoint().
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <memory>

#include "core/io/checkpoint.h"
#include "core/io/hf_export.h"
#include "core/io/hf_model.h"
#include "core/io/load_checkpoint.h"
#include "core/io/safetensors.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/test_support.h"

using namespace attnlab;
using Catch::Matchers::Contains;

namespace {

ModelConfig export_config(const std::string& kind) {
  ModelConfig c;
  c.vocab_size = 256;
  c.context = 16;
  c.d_model = 32;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 4;
  c.d_ff = 40;
  c.family = kind;
  if (kind == "gpt2") {
    c.pos = PosEncoding::learned;
    c.norm = NormKind::layernorm;
    c.mlp = MlpKind::gelu_tanh;
    c.bias = true;
    c.tied_embeddings = false;
  } else if (kind == "llama_gqa") {
    c.n_kv_heads = 2;  // interleaved RoPE (our default): export must permute q/k rows
  } else if (kind == "llama_bias") {
    c.bias = true;
    c.rope_style = RopeStyle::half;
    c.tied_embeddings = false;
  } else if (kind == "neox") {
    c.norm = NormKind::layernorm;
    c.mlp = MlpKind::gelu;
    c.bias = true;
    c.rotary_pct = 0.5f;
    c.rope_style = RopeStyle::interleaved;
    c.parallel_residual = true;
  }
  return c;
}

// Random weights with enough scale that attention is far from uniform.
void randomize(Transformer& m, uint64_t seed) {
  m.init_weights(seed);
  auto w = m.weights();
  Rng rng(seed + 1);
  for (auto& [name, t] : w)
    for (float& x : t.data) x = name.find("norm") != std::string::npos ? 1.0f + 0.1f * float(rng.normal()) : 0.3f * float(rng.normal());
  m.load_weights(w);
}

struct Rows : ForwardObserver {
  std::vector<std::vector<float>> rows;  // flattened per (layer, head): T*T
  void on_attention(const LayerAttentionView& v) override {
    const AttnShape& s = v.inputs->shape;
    for (int h = 0; h < s.H; ++h) {
      std::vector<float> a(size_t(s.T) * s.T, 0.0f);
      v.attention->pattern(*v.inputs, 0, h, [&](int t, const float* r) { std::copy(r, r + t + 1, a.begin() + size_t(t) * s.T); });
      rows.push_back(a);
    }
  }
};

const std::vector<std::string> kKinds = {"gpt2", "llama_gqa", "llama_bias", "neox"};
const char kText[] = "attn lab!";

Transformer& random_model(const std::string& kind) {
  static std::map<std::string, std::unique_ptr<Transformer>> models;
  auto& m = models[kind];
  if (!m) {
    m = std::make_unique<Transformer>(export_config(kind));
    randomize(*m, 7);
  }
  return *m;
}

// Exports every kind and runs the reference on all of them in one oracle process.
const std::filesystem::path& export_dir(const std::string& kind) {
  static std::map<std::string, std::filesystem::path> dirs = [] {
    std::map<std::string, std::filesystem::path> d;
    std::string args = "ref";
    auto byte_tok = make_byte_tokenizer();
    for (const std::string& k : kKinds) {
      d[k] = test::temp_dir("hf_export_" + k);
      HfExportResult r = export_hf_folder(export_config(k), random_model(k).weights(), byte_tok.get(), d[k].string());
      CHECK(r.tokenizer_written);
      CHECK(r.model_type == (k == "gpt2" ? "gpt2" : k == "neox" ? "gpt_neox" : "llama"));
      std::vector<int32_t> tokens = byte_tok->encode(kText, false);
      Tensor tok_f({int64_t(tokens.size())});
      for (size_t i = 0; i < tokens.size(); ++i) tok_f.data[i] = float(tokens[i]);
      write_safetensors((d[k] / "tokens.safetensors").string(), {{"tokens", tok_f}});
      args += " " + d[k].string();
    }
    test::run_oracle("hf_arch_ref.py", args);
    return d;
  }();
  return dirs.at(kind);
}

}  // namespace

TEST_CASE("HF export matches the transformers-semantics reference and loads back", "[io][hf][export][oracle]") {
  for (const std::string& kind : kKinds) {
    DYNAMIC_SECTION(kind) {
      const auto& dir = export_dir(kind);
      Transformer& model = random_model(kind);
      auto byte_tok = make_byte_tokenizer();
      std::vector<int32_t> tokens = byte_tok->encode(kText, false);
      const int T = int(tokens.size());
      SafetensorsFile ref = read_safetensors((dir / "ref.safetensors").string());

      Rows rows;
      model.add_observer(&rows);
      std::vector<float> logits = model.forward(tokens.data(), 1, T).data;
      model.remove_observer(&rows);
      const Tensor& want = ref.tensors.at("logits");
      REQUIRE(want.numel() == int64_t(logits.size()));
      float max_err = 0;
      for (size_t i = 0; i < logits.size(); ++i) max_err = std::max(max_err, std::fabs(logits[i] - want.data[i]));
      const Tensor& attn = ref.tensors.at("attn");
      REQUIRE(attn.numel() == int64_t(rows.rows.size()) * T * T);
      float max_attn = 0;
      for (size_t k = 0; k < rows.rows.size(); ++k)
        for (size_t i = 0; i < size_t(T) * T; ++i) max_attn = std::max(max_attn, std::fabs(rows.rows[k][i] - attn.data[k * T * T + i]));
      INFO(kind << ": max |logit err| " << max_err << ", max |attn err| " << max_attn);
      CHECK(max_err < 1e-4f);
      CHECK(max_attn < 1e-4f);

      LoadedModel back = load_checkpoint(dir.string());
      REQUIRE(back.tokenizer);
      CHECK(back.tokenizer->decode(back.tokenizer->encode("attn lab!\n\xff", false)) == "attn lab!\n\xff");
      CHECK(back.tokenizer->encode("attn lab!", false) == tokens);
      Transformer again(back.config);
      again.load_weights(back.weights);
      const Tensor& l2 = again.forward(tokens.data(), 1, T);
      float back_err = 0;
      for (size_t i = 0; i < logits.size(); ++i) back_err = std::max(back_err, std::fabs(logits[i] - l2.data[i]));
      CHECK(back_err < 1e-5f);
    }
  }
}

TEST_CASE("HF export refuses what transformers cannot express", "[io][hf][export]") {
  auto dir = test::temp_dir("hf_export_bad");
  ModelConfig c = export_config("llama_gqa");
  Transformer m(c);
  auto w = m.weights();
  c.attention = {"sigmoid"};
  CHECK_THROWS_WITH(export_hf_folder(c, w, nullptr, dir.string()), Contains("layer 0 uses attention 'sigmoid'"));
  c = export_config("llama_gqa");
  c.pos = PosEncoding::alibi;
  CHECK_THROWS_WITH(export_hf_folder(c, w, nullptr, dir.string()), Contains("alibi"));
  c = export_config("llama_gqa");
  w.erase("layers.1.mlp.w3.weight");
  CHECK_THROWS_WITH(export_hf_folder(c, w, nullptr, dir.string()), Contains("layers.1.mlp.w3.weight"));
  c = export_config("llama_gqa");
  c.mlp = MlpKind::none;
  CHECK_THROWS_WITH(export_hf_folder(c, w, nullptr, dir.string()), Contains("attention-only"));
}

TEST_CASE("our own checkpoints load through load_checkpoint with their vocabulary", "[io][checkpoint]") {
  auto dir = test::temp_dir("own_ckpt");
  ModelConfig c = export_config("llama_gqa");
  c.vocab_size = 5;
  Transformer m(c);
  randomize(m, 3);
  CheckpointExtras extras;
  extras.metadata["attnlab.vocab"] = R"(["a", "b", "c", " ", "\n"])";
  std::string path = (dir / "model.safetensors").string();
  save_checkpoint(path, m, extras);
  CHECK(detect_checkpoint_format(path) == "attnlab");
  LoadedModel back = load_checkpoint(path);
  CHECK(back.format == "attnlab");
  CHECK(back.config.n_kv_heads == 2);
  REQUIRE(back.tokenizer);
  CHECK(back.tokenizer->kind() == "char");
  CHECK(back.tokenizer->encode("ab c\n", false) == std::vector<int32_t>{0, 1, 3, 2, 4});
  auto w = m.weights();
  for (const auto& [name, t] : w) CHECK(back.weights.at(name).data == t.data);
  // Exported with its char tokenizer, it reads back with the same ids.
  HfExportResult r = export_hf_folder(back.config, back.weights, back.tokenizer.get(), (dir / "hf").string());
  CHECK(r.tokenizer_written);
  LoadedModel hf = load_checkpoint((dir / "hf").string());
  CHECK(hf.tokenizer->encode("ab c\n", false) == std::vector<int32_t>{0, 1, 3, 2, 4});
  CHECK(hf.tokenizer->decode({0, 1, 3, 2, 4}) == "ab c\n");
}

TEST_CASE("a checkpoint whose vocabulary is empty (a continuous-input model) loads without a tokenizer",
          "[io][checkpoint]") {
  // Regression models trained before training_vocab_metadata skipped continuous tasks say "[]".
  auto dir = test::temp_dir("empty_vocab_ckpt");
  ModelConfig c = export_config("llama_gqa");
  Transformer m(c);
  randomize(m, 4);
  CheckpointExtras extras;
  extras.metadata["attnlab.vocab"] = "[]";
  extras.metadata["attnlab.task"] = "linear_regression(dim=3)";
  std::string path = (dir / "model.safetensors").string();
  save_checkpoint(path, m, extras);
  LoadedModel back = load_checkpoint(path);
  CHECK_FALSE(back.tokenizer);
  CHECK(back.notes.at("task") == "linear_regression(dim=3)");
}
