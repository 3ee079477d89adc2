// Checkpoints that are not what they claim: missing or misshapen tensors, unknown settings,
// truncated files and unrecognized formats all stop with an error naming the tensor or key.
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/io/hf_model.h"
#include "core/io/llama2c.h"
#include "core/io/load_checkpoint.h"
#include "core/io/safetensors.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "tests/test_support.h"

using namespace attnlab;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

json tiny_llama_config() {
  return {{"model_type", "llama"}, {"vocab_size", 11}, {"hidden_size", 8}, {"num_hidden_layers", 2},
          {"num_attention_heads", 2}, {"num_key_value_heads", 1}, {"intermediate_size", 12},
          {"max_position_embeddings", 16}, {"rms_norm_eps", 1e-6}, {"tie_word_embeddings", false}};
}

std::map<std::string, Tensor> tiny_llama_tensors() {
  std::map<std::string, Tensor> t;
  t["model.embed_tokens.weight"] = Tensor({11, 8});
  for (int l = 0; l < 2; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    t[p + "input_layernorm.weight"] = Tensor({8});
    t[p + "post_attention_layernorm.weight"] = Tensor({8});
    t[p + "self_attn.q_proj.weight"] = Tensor({8, 8});
    t[p + "self_attn.k_proj.weight"] = Tensor({4, 8});
    t[p + "self_attn.v_proj.weight"] = Tensor({4, 8});
    t[p + "self_attn.o_proj.weight"] = Tensor({8, 8});
    t[p + "mlp.gate_proj.weight"] = Tensor({12, 8});
    t[p + "mlp.up_proj.weight"] = Tensor({12, 8});
    t[p + "mlp.down_proj.weight"] = Tensor({8, 12});
    t[p + "self_attn.rotary_emb.inv_freq"] = Tensor({2});  // a buffer old saves carry
  }
  t["model.norm.weight"] = Tensor({8});
  t["lm_head.weight"] = Tensor({11, 8});
  return t;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("HF mapping: a valid tiny llama maps to our names", "[io][hf]") {
  LoadedModel m = map_hf_model(tiny_llama_config(), tiny_llama_tensors(), "test");
  CHECK(m.config.n_kv_heads == 1);
  CHECK(m.config.head_dim() == 4);
  CHECK(m.config.rope_style == RopeStyle::half);
  CHECK(!m.config.tied_embeddings);
  CHECK(m.weights.count("layers.1.mlp.w3.weight"));
  CHECK(m.weights.at("layers.0.attn.wk.weight").shape == std::vector<int64_t>{4, 8});
  CHECK(m.weights.size() == 2 + 2 * 9 + 1);
}

TEST_CASE("HF mapping errors name the tensor or config key", "[io][hf]") {
  json cfg = tiny_llama_config();
  auto t = tiny_llama_tensors();
  SECTION("missing tensor") {
    t.erase("model.layers.1.mlp.up_proj.weight");
    CHECK_THROWS_WITH(map_hf_model(cfg, t, "m"), Contains("missing tensor 'model.layers.1.mlp.up_proj.weight'"));
  }
  SECTION("wrong shape") {
    t["model.layers.0.self_attn.k_proj.weight"] = Tensor({8, 8});
    CHECK_THROWS_WITH(map_hf_model(cfg, t, "m"), Contains("'model.layers.0.self_attn.k_proj.weight'") && Contains("[8, 8]") && Contains("[4, 8]"));
  }
  SECTION("unexpected tensor") {
    t["model.layers.0.self_attn.q_norm.weight"] = Tensor({4});
    CHECK_THROWS_WITH(map_hf_model(cfg, t, "m"), Contains("unexpected tensor 'model.layers.0.self_attn.q_norm.weight'"));
  }
  SECTION("unknown model_type") {
    cfg["model_type"] = "bert";
    CHECK_THROWS_WITH(map_hf_model(cfg, t, "m"), Contains("model_type 'bert' is not supported"));
  }
  SECTION("missing config key") {
    cfg.erase("hidden_size");
    CHECK_THROWS_WITH(map_hf_model(cfg, t, "m"), Contains("missing 'hidden_size'"));
  }
  SECTION("wrongly typed config key") {
    cfg["num_hidden_layers"] = "two";
    CHECK_THROWS_WITH(map_hf_model(cfg, t, "m"), Contains("'num_hidden_layers' has the wrong type"));
  }
  SECTION("a config integer beyond int, which would otherwise wrap") {
    cfg["num_hidden_layers"] = 1000000000000LL;
    CHECK_THROWS_WITH(map_hf_model(cfg, t, "m"),
                      Contains("'num_hidden_layers' has the wrong type") && Contains("2147483647"));
  }
  SECTION("a bool that is a number") {
    cfg["tie_word_embeddings"] = 1;
    CHECK_THROWS_WITH(map_hf_model(cfg, t, "m"),
                      Contains("'tie_word_embeddings'") && Contains("boolean"));
  }
  SECTION("unsupported RoPE scaling") {
    cfg["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
    CHECK_THROWS_WITH(map_hf_model(cfg, t, "m"), Contains("rope_scaling"));
  }
  SECTION("tied embeddings need no lm_head; untied ones do") {
    t.erase("lm_head.weight");
    CHECK_THROWS_WITH(map_hf_model(cfg, t, "m"), Contains("missing tensor 'lm_head.weight'"));
    cfg["tie_word_embeddings"] = true;
    CHECK(map_hf_model(cfg, t, "m").config.tied_embeddings);
  }
}

TEST_CASE("HF folders: dtype and file problems are reported with the file", "[io][hf]") {
  fs::path dir = test::temp_dir("hf_bad");
  std::ofstream(dir / "config.json") << tiny_llama_config().dump();
  SECTION("no weights") {
    CHECK_THROWS_WITH(load_hf_folder(dir.string()), Contains("neither model.safetensors nor model.safetensors.index.json"));
  }
  SECTION("an integer tensor where a weight belongs") {
    // A hand-built file whose one tensor is I64: the reader refuses it by name.
    std::string header = R"({"model.embed_tokens.weight":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})";
    std::ofstream out(dir / "model.safetensors", std::ios::binary);
    uint64_t n = header.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << header << std::string(8, '\0');
    out.close();
    CHECK_THROWS_WITH(load_checkpoint(dir.string()), Contains("model.embed_tokens.weight") && Contains("unsupported dtype I64"));
  }
  SECTION("config.json that is not JSON") {
    std::ofstream(dir / "config.json") << "{\"model_type\": ";
    write_safetensors((dir / "model.safetensors").string(), tiny_llama_tensors());
    CHECK_THROWS_WITH(load_checkpoint(dir.string()), Contains("config.json is not valid JSON"));
  }
  SECTION("config.json nested thousands deep") {
    std::ofstream(dir / "config.json")
        << "{\"model_type\": " << std::string(100000, '[') << std::string(100000, ']') << "}";
    CHECK_THROWS_WITH(load_hf_folder(dir.string()), Contains("config.json") &&
                                                        Contains("deeper than 64") &&
                                                        Contains("'model_type'"));
  }
  SECTION("a tokenizer.json we cannot reproduce exactly: the model loads without it, saying why") {
    write_safetensors((dir / "model.safetensors").string(), tiny_llama_tensors());
    std::ofstream(dir / "tokenizer.json") << R"({"model": {"type": "Unigram", "vocab": []}})";
    LoadedModel m = load_checkpoint(dir.string());
    CHECK(!m.tokenizer);
    CHECK_THAT(m.notes.at("tokenizer"), Contains("only BPE"));
  }
  SECTION("a valid folder loads through load_checkpoint, also via its .safetensors path") {
    write_safetensors((dir / "model.safetensors").string(), tiny_llama_tensors());
    CHECK(detect_checkpoint_format(dir.string()) == "hf");
    CHECK(load_checkpoint(dir.string()).config.d_ff == 12);
    CHECK(load_checkpoint((dir / "model.safetensors").string()).format == "hf");
  }
}

TEST_CASE("llama2.c files: truncation and bad headers", "[io][llama2c]") {
  fs::path dir = test::temp_dir("l2c_bad");
  std::string good = read_bytes(test::shared_file("models/stories260K/stories260K.bin"));
  fs::path p = dir / "model.bin";
  SECTION("truncated") {
    std::ofstream(p, std::ios::binary) << good.substr(0, good.size() - 4);
    CHECK_THROWS_WITH(load_checkpoint(p.string()), Contains("model.bin") && Contains("does not match the header") && Contains("truncated"));
  }
  SECTION("implausible header") {
    std::string b = good;
    int32_t bad = -7;
    b.replace(8, 4, reinterpret_cast<const char*>(&bad), 4);  // n_layers
    std::ofstream(p, std::ios::binary) << b;
    CHECK_THROWS_WITH(load_llama2c(p.string()), Contains("n_layers = -7"));
  }
  SECTION("header sizes whose products overflow 64 bits") {
    const int32_t big = 1 << 24, header[7] = {big, big, big, 1, 1, big, 256};  // dim .. seq_len
    std::ofstream(p, std::ios::binary)
        << std::string(reinterpret_cast<const char*>(header), 28) << std::string(64, '\0');
    CHECK_THROWS_WITH(load_llama2c(p.string()),
                      Contains("model.bin") && Contains("n_layers 16777216") &&
                          Contains("over the limit of 32 (twice the 16 values"));
  }
  SECTION("a tokenizer file is not a model") {
    CHECK_THROWS_AS(load_checkpoint(test::shared_file("models/stories260K/tok512.bin").string()), Error);
  }
  SECTION("the tokenizer beside the model is found by its vocab size") {
    LoadedModel m = load_checkpoint(test::shared_file("models/stories260K/stories260K.bin").string());
    CHECK(m.format == "llama2c");
    REQUIRE(m.tokenizer);
    CHECK(m.notes.at("tokenizer").find("tok512.bin") != std::string::npos);
  }
}

TEST_CASE("load_checkpoint detects formats and rejects the rest", "[io]") {
  CHECK(detect_checkpoint_format(test::shared_file("models/stories260K/stories260K.gguf").string()) == "gguf");
  CHECK(detect_checkpoint_format(test::shared_file("models/stories260K/stories260K.bin").string()) == "llama2c");
  fs::path dir = test::temp_dir("detect");
  CHECK_THROWS_WITH(detect_checkpoint_format((dir / "nothing").string()), Contains("no such file"));
  std::ofstream(dir / "notes.txt") << "hello";
  CHECK_THROWS_WITH(load_checkpoint((dir / "notes.txt").string()), Contains("format not recognized"));
  CHECK_THROWS_WITH(load_checkpoint(dir.string()), Contains("has no config.json"));
  write_safetensors((dir / "lonely.safetensors").string(), {{"x", Tensor({1})}});
  CHECK_THROWS_WITH(load_checkpoint((dir / "lonely.safetensors").string()), Contains("neither attnlab.config"));
}

TEST_CASE("attnlab checkpoints: a hostile attnlab.config is refused before the model is built",
          "[io][checkpoint]") {
  fs::path dir = test::temp_dir("ck_hostile");
  const std::string p = (dir / "model.safetensors").string();
  auto write_with_config = [&](const std::string& config) {
    write_safetensors(p, {{"tok_emb.weight", Tensor({4, 4})}}, {{"attnlab.config", config}});
  };
  SECTION("sizes far beyond the tensors the file holds") {
    write_with_config(
        R"({"n_layers": 100000, "d_model": 1e6, "d_ff": 1e6, "vocab_size": 2147483647, "n_heads": 1000})");
    CHECK_THROWS_WITH(load_checkpoint(p),
                      Contains("model.safetensors") && Contains("attnlab.config") &&
                          Contains("n_layers 100000") && Contains("vocab_size 2147483647") &&
                          Contains("over the limit of 32 (twice the 16 values"));
  }
  SECTION("sizes whose product overflows 64 bits") {
    write_with_config(
        R"({"n_layers": 2147483647, "d_model": 2147483647, "d_ff": 2147483647, "n_heads": 1})");
    CHECK_THROWS_WITH(load_checkpoint(p), Contains("attnlab.config") && Contains("more than 2^64"));
  }
  SECTION("JSON nested thousands deep") {
    write_with_config("{\"attention\": " + std::string(100000, '[') + std::string(100000, ']') +
                      "}");
    CHECK_THROWS_WITH(load_checkpoint(p), Contains("attnlab.config") &&
                                              Contains("deeper than 64") &&
                                              Contains("'attention'"));
  }
  SECTION("a number where a bool belongs") {
    write_with_config(R"({"bias": 1})");
    CHECK_THROWS_WITH(load_checkpoint(p),
                      Contains("model.safetensors") && Contains("'bias'") && Contains("boolean"));
  }
  SECTION("an integer beyond int") {
    write_with_config(R"({"n_layers": 4294967298})");
    CHECK_THROWS_WITH(load_checkpoint(p), Contains("'n_layers'") && Contains("wrong type"));
  }
}

TEST_CASE("model config sizes: a lower bound on the weights, checked against a limit",
          "[io][checkpoint]") {
  ModelConfig c = preset_config("gpt2-bench");
  Transformer model(c);
  const uint64_t norms = uint64_t(c.d_model) * (4 * c.n_layers + 2);
  const uint64_t biases = uint64_t(c.n_layers) * (4 * c.d_model + c.d_ff + c.d_model);
  REQUIRE(config_weight_count(c).has_value());
  CHECK(*config_weight_count(c) + norms + biases == uint64_t(model.num_params()));
  CHECK_NOTHROW(validate_config_sizes(c, "x", *config_weight_count(c), "test"));
  CHECK_THROWS_WITH(
      validate_config_sizes(c, "cfg.json", *config_weight_count(c) - 1, "a test limit"),
      Contains("cfg.json") && Contains("d_model 256") && Contains("a test limit"));
  c.n_layers = -3;  // validate()'s to report, not an overflow here
  CHECK(config_weight_count(c).has_value());
}
