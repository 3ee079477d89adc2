// GGUF: every ggml type we dequantize against codes packed the way ggml's reference quantizers
// pack them (tests/oracle/gguf_quant_ref.py), typed metadata, and damaged files.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <iterator>

#include "core/io/gguf.h"
#include "core/io/gguf_model.h"
#include "core/io/safetensors.h"
#include "core/tensor/error.h"
#include "core/tokenizer/sentencepiece_bpe.h"
#include "tests/test_support.h"

using namespace attnlab;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const fs::path& p, const std::string& b) { std::ofstream(p, std::ios::binary) << b; }

// A GGUF v3 file built field by field, so a test can write any value the reader must refuse.
struct GgufBuilder {
  enum : uint32_t { U8 = 0, U32 = 4, STRING = 8, ARRAY = 9, U64 = 10 };
  std::string b;
  GgufBuilder(uint64_t n_tensors, uint64_t n_kv) {
    b = "GGUF";
    pod<uint32_t>(3).pod(n_tensors).pod(n_kv);
  }
  template <class T>
  GgufBuilder& pod(T v) {
    b.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  GgufBuilder& str(const std::string& s) {
    pod<uint64_t>(s.size());
    b += s;
    return *this;
  }
  GgufBuilder& key(const std::string& k, uint32_t type) { return str(k).pod(type); }
  GgufBuilder& kv_string(const std::string& k, const std::string& v) {
    return key(k, STRING).str(v);
  }
  GgufBuilder& kv_u32(const std::string& k, uint32_t v) { return key(k, U32).pod(v); }
  GgufBuilder& strings(const std::string& k, const std::vector<std::string>& v) {
    key(k, ARRAY).pod<uint32_t>(STRING).pod<uint64_t>(v.size());
    for (const std::string& s : v) str(s);
    return *this;
  }
  // An F32 tensor descriptor; dims innermost first, as ggml writes them.
  GgufBuilder& tensor(const std::string& name, const std::vector<uint64_t>& ne, uint64_t offset) {
    str(name).pod<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) pod(d);
    return pod<uint32_t>(0).pod(offset);
  }
  // Pads to the default alignment (32) and appends `n` bytes of tensor data.
  GgufBuilder& data(size_t n) {
    b.resize((b.size() + 31) / 32 * 32, '\0');
    b.append(n, '\0');
    return *this;
  }
};

}  // namespace

TEST_CASE("GGUF dequantizes F32/F16/BF16 and Q4_0..Q8_0, Q2_K..Q6_K exactly", "[io][gguf]") {
  fs::path dir = test::temp_dir("gguf_q");
  test::run_oracle("gguf_quant_ref.py", (dir / "q.gguf").string() + " " + (dir / "expected.safetensors").string());
  GgufFile f = read_gguf((dir / "q.gguf").string());
  SafetensorsFile want = read_safetensors((dir / "expected.safetensors").string());
  CHECK(f.version == 3);
  CHECK(f.get_string("general.architecture") == "test");
  CHECK(f.get_int("test.u32") == 4000000000LL);
  CHECK(f.get_int("test.i8") == -5);
  CHECK(f.get_float("test.f32", 0) == 0.5);
  CHECK(f.at("test.bool").get<bool>());
  CHECK(f.get_int("test.i64") == -(1LL << 40));
  CHECK(f.get_float("test.f64", 0) == 0.25);
  CHECK(f.at("test.strs") == nlohmann::json::array({"a", "\xE2\x96\x81" "b"}));
  CHECK(f.at("test.nested") == nlohmann::json::parse("[[-1, 2]]"));
  CHECK_THROWS_WITH(f.get_int("test.strs"), Contains("test.strs") && Contains("not an integer"));
  CHECK_THROWS_WITH(f.get_string("nope"), Contains("missing metadata key 'nope'"));
  REQUIRE(want.tensors.size() == 13);
  for (const auto& [name, expected] : want.tensors) {
    INFO(name);
    Tensor t = read_gguf_tensor(f, name);
    REQUIRE(t.shape == std::vector<int64_t>{3, 512});  // ggml ne = [512, 3], outermost first here
    float scale = 0;
    for (float v : expected.data) scale = std::max(scale, std::fabs(v));
    float max_err = 0;
    for (size_t i = 0; i < t.data.size(); ++i) max_err = std::max(max_err, std::fabs(t.data[i] - expected.data[i]));
    CHECK(max_err <= 1e-6f * scale);
  }
  CHECK_THROWS_WITH(load_gguf_model((dir / "q.gguf").string()), Contains("architecture 'test' is not supported"));
}

TEST_CASE("damaged GGUF files give errors naming the file and what broke", "[io][gguf]") {
  fs::path dir = test::temp_dir("gguf_bad");
  std::string good = read_bytes(test::shared_file("models/stories260K/stories260K.gguf"));
  fs::path p = dir / "bad.gguf";

  SECTION("truncated in the tensor data") {
    write_bytes(p, good.substr(0, good.size() - 1000));
    CHECK_THROWS_WITH(read_gguf(p.string()), Contains("bad.gguf") && Contains("blk.4.ffn_up.weight") && Contains("truncated"));
  }
  SECTION("truncated in the metadata") {
    write_bytes(p, good.substr(0, 200));
    CHECK_THROWS_WITH(read_gguf(p.string()), Contains("bad.gguf") && Contains("tokenizer.ggml.tokens") && Contains("truncated"));
  }
  SECTION("wrong magic") {
    std::string b = good;
    b[0] = 'X';
    write_bytes(p, b);
    CHECK_THROWS_WITH(read_gguf(p.string()), Contains("not a GGUF file"));
  }
  SECTION("unsupported version") {
    std::string b = good;
    b[4] = 1;
    write_bytes(p, b);
    CHECK_THROWS_WITH(read_gguf(p.string()), Contains("unsupported GGUF version 1"));
  }
  SECTION("unknown tensor type") {
    // The first tensor descriptor follows the metadata; patch its type field (after the name,
    // n_dims and two dims) to an id ggml does not define here.
    std::string name = "token_embd.weight";
    size_t at = good.find(name);
    REQUIRE(at != std::string::npos);
    size_t type_at = at + name.size() + 4 + 2 * 8;
    std::string b = good;
    b[type_at] = 99;
    write_bytes(p, b);
    CHECK_THROWS_WITH(read_gguf(p.string()), Contains("token_embd.weight") && Contains("unsupported ggml type 99"));
  }
  SECTION("missing file") {
    CHECK_THROWS_WITH(read_gguf((dir / "none.gguf").string()), Contains("none.gguf") && Contains("no such file"));
  }
}

TEST_CASE("hostile GGUF files are refused before they crash or allocate", "[io][gguf]") {
  fs::path dir = test::temp_dir("gguf_hostile");
  fs::path p = dir / "hostile.gguf";

  SECTION("metadata arrays of arrays nested 30,000 deep") {
    GgufBuilder g(0, 1);
    g.key("deep", GgufBuilder::ARRAY);
    for (int i = 0; i < 30000; ++i) g.pod<uint32_t>(GgufBuilder::ARRAY).pod<uint64_t>(1);
    g.pod<uint32_t>(GgufBuilder::U8).pod<uint64_t>(0);
    write_bytes(p, g.b);
    CHECK_THROWS_WITH(read_gguf(p.string()),
                      Contains("hostile.gguf") && Contains("'deep'") && Contains("deeper than 64"));
  }
  SECTION("a tensor offset near 2^64 that wraps when the data start is added") {
    write_bytes(p, GgufBuilder(1, 0).tensor("w", {4}, ~uint64_t(0) - 31).data(16).b);
    CHECK_THROWS_WITH(read_gguf(p.string()),
                      Contains("hostile.gguf") && Contains("'w'") && Contains("runs past the end"));
  }
  SECTION("a tensor offset off the alignment") {
    write_bytes(p, GgufBuilder(1, 0).tensor("w", {4}, 4).data(32).b);
    CHECK_THROWS_WITH(read_gguf(p.string()),
                      Contains("'w'") && Contains("not a multiple of general.alignment 32"));
  }
  SECTION("tensors sharing bytes") {
    write_bytes(p, GgufBuilder(2, 0).tensor("a", {16}, 0).tensor("b", {16}, 32).data(96).b);
    CHECK_THROWS_WITH(read_gguf(p.string()),
                      Contains("'a'") && Contains("'b'") && Contains("overlap"));
  }
  SECTION("the same tensor name twice") {
    write_bytes(p, GgufBuilder(2, 0).tensor("a", {4}, 0).tensor("a", {4}, 32).data(64).b);
    CHECK_THROWS_WITH(read_gguf(p.string()), Contains("'a'") && Contains("appears twice"));
  }
  SECTION("dimensions whose product overflows 64 bits") {
    write_bytes(p, GgufBuilder(1, 0).tensor("w", {1ull << 40, 1ull << 40}, 0).data(16).b);
    CHECK_THROWS_WITH(read_gguf(p.string()),
                      Contains("'w'") && Contains("more elements than fit in 64 bits"));
  }
  SECTION("an alignment too large to pad by") {
    write_bytes(
        p,
        GgufBuilder(0, 1).key("general.alignment", GgufBuilder::U64).pod<uint64_t>(1ull << 63).b);
    CHECK_THROWS_WITH(read_gguf(p.string()),
                      Contains("general.alignment") && Contains("power of two"));
  }
}

TEST_CASE("GGUF metadata of the wrong type names the key", "[io][gguf]") {
  fs::path dir = test::temp_dir("gguf_types");
  fs::path p = dir / "types.gguf";
  // The tokenizer keys every case shares, after the one under test.
  auto tokenizer_file = [&](GgufBuilder g) {
    g.kv_string("tokenizer.ggml.model", "llama").strings("tokenizer.ggml.tokens", {"a", "b"});
    write_bytes(p, g.b);
    return read_gguf(p.string());
  };
  SECTION("strings where the scores should be") {
    GgufBuilder g(0, 3);
    GgufFile f = tokenizer_file(g.strings("tokenizer.ggml.scores", {"x", "y"}));
    CHECK_THROWS_WITH(sentencepiece_from_gguf(f), Contains("types.gguf") &&
                                                      Contains("tokenizer.ggml.scores[0]") &&
                                                      Contains("wrong type") && Contains("number"));
  }
  SECTION("a number where a bool should be") {
    GgufBuilder g(0, 3);
    GgufFile f = tokenizer_file(g.kv_u32("tokenizer.ggml.add_bos_token", 1));
    CHECK_THROWS_WITH(sentencepiece_from_gguf(f),
                      Contains("tokenizer.ggml.add_bos_token") && Contains("boolean"));
  }
  SECTION("a token that is not a string") {
    GgufBuilder g(0, 2);
    g.kv_string("tokenizer.ggml.model", "llama").key("tokenizer.ggml.tokens", GgufBuilder::ARRAY);
    g.pod<uint32_t>(GgufBuilder::U32).pod<uint64_t>(1).pod<uint32_t>(7);
    write_bytes(p, g.b);
    CHECK_THROWS_WITH(sentencepiece_from_gguf(read_gguf(p.string())),
                      Contains("tokenizer.ggml.tokens[0]") && Contains("string"));
  }
  SECTION("a hyperparameter beyond int") {
    GgufBuilder g(0, 2);
    g.kv_string("general.architecture", "llama")
        .key("llama.embedding_length", GgufBuilder::U64)
        .pod<uint64_t>(1ull << 40);
    write_bytes(p, g.b);
    CHECK_THROWS_WITH(load_gguf_model(p.string()),
                      Contains("llama.embedding_length") && Contains("outside"));
  }
}

TEST_CASE("GGUF hyperparameters larger than the file's tensors are refused before allocating",
          "[io][gguf]") {
  fs::path dir = test::temp_dir("gguf_sizes");
  fs::path p = dir / "huge.gguf";
  GgufBuilder g(1, 6);
  g.kv_string("general.architecture", "llama");
  g.kv_u32("llama.embedding_length", 1000000).kv_u32("llama.block_count", 100000);
  g.kv_u32("llama.attention.head_count", 1000).kv_u32("llama.feed_forward_length", 1000000);
  g.kv_u32("llama.context_length", 256);
  write_bytes(p, g.tensor("token_embd.weight", {4, 4}, 0).data(64).b);
  CHECK_THROWS_WITH(load_gguf_model(p.string()),
                    Contains("huge.gguf") && Contains("n_layers 100000") &&
                        Contains("d_model 1000000") &&
                        Contains("over the limit of 32 (twice the 16 values"));
}
