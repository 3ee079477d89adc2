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
