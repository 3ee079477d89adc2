// safetensors: round trip, f16/bf16 decoding of hand-built files, sharded folders, and every
// kind of malformed file giving an error that names the file and the tensor.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/io/half.h"
#include "core/io/safetensors.h"
#include "core/tensor/error.h"
#include "tests/test_support.h"

using namespace attnlab;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

// A file built byte by byte, so tests control every field the reader checks.
void write_raw(const fs::path& p, const std::string& header, const std::string& data, int64_t len_override = -1) {
  std::ofstream out(p, std::ios::binary);
  uint64_t n = len_override >= 0 ? static_cast<uint64_t>(len_override) : header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>(n >> (8 * i)));
  out << header << data;
}

std::string bytes_of(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

}  // namespace

TEST_CASE("safetensors round trip keeps names, shapes, values and metadata", "[io][safetensors]") {
  fs::path dir = test::temp_dir("st_rt");
  std::map<std::string, Tensor> in;
  Tensor a({2, 3});
  for (int i = 0; i < 6; ++i) a.data[i] = 0.5f * i - 1.0f;
  in["a.weight"] = a;
  in["b"] = Tensor({4}, 3.25f);
  in["empty"] = Tensor({0, 5});
  in["scalar"] = Tensor(std::vector<int64_t>{}, 7.0f);
  std::string path = (dir / "m.safetensors").string();
  write_safetensors(path, in, {{"attnlab.config", "{\"x\":1}"}});
  SafetensorsFile f = read_safetensors(path);
  REQUIRE(f.tensors.size() == 4);
  for (const auto& [name, t] : in) {
    REQUIRE(f.tensors.count(name));
    CHECK(f.tensors[name].shape == t.shape);
    CHECK(f.tensors[name].data == t.data);
  }
  CHECK(f.metadata.at("attnlab.config") == "{\"x\":1}");
  // No temp file is left behind.
  int files = 0;
  for (auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  CHECK(files == 1);
  // The data section is 8-byte aligned.
  SafetensorsHeader h = read_safetensors_header(path);
  CHECK(h.data_start % 8 == 0);
}

TEST_CASE("safetensors decodes F16, BF16 and F64", "[io][safetensors]") {
  fs::path p = test::temp_dir("st_dtypes") / "x.safetensors";
  const float vals[4] = {1.0f, -2.5f, 0.0009765625f /* 2^-10 */, 65504.0f};
  uint16_t f16[4], bf16[4];
  for (int i = 0; i < 4; ++i) {
    f16[i] = float_to_fp16(vals[i]);
    bf16[i] = float_to_bf16(vals[i]);
  }
  CHECK(f16[0] == 0x3c00);
  CHECK(f16[1] == 0xc100);
  CHECK(bf16[0] == 0x3f80);
  uint16_t sub = 0x0001;  // smallest f16 subnormal = 2^-24
  double d[2] = {0.125, -3.0};
  std::string data = bytes_of(f16, 8) + bytes_of(bf16, 8) + bytes_of(&sub, 2) + bytes_of(d, 16);
  std::string header =
      R"({"h":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[8,16]},)"
      R"("s":{"dtype":"F16","shape":[1],"data_offsets":[16,18]},)"
      R"("d":{"dtype":"F64","shape":[2],"data_offsets":[18,34]}})";
  write_raw(p, header, data);
  SafetensorsFile f = read_safetensors(p.string());
  for (int i = 0; i < 4; ++i) CHECK(f.tensors["h"].data[i] == vals[i]);
  CHECK(f.tensors["b"].data[0] == 1.0f);
  CHECK(f.tensors["b"].data[1] == -2.5f);
  CHECK(f.tensors["b"].data[3] == 65536.0f);  // bf16 rounds 65504 up
  CHECK(f.tensors["s"].data[0] == std::ldexp(1.0f, -24));
  CHECK(f.tensors["d"].data[0] == 0.125f);
  CHECK(f.tensors["d"].data[1] == -3.0f);
  CHECK(f.tensors["h"].shape == std::vector<int64_t>{2, 2});
}

TEST_CASE("safetensors sharded folders merge shards through the index", "[io][safetensors]") {
  fs::path dir = test::temp_dir("st_shard");
  write_safetensors((dir / "model-00001-of-00002.safetensors").string(), {{"a", Tensor({2}, 1.0f)}});
  write_safetensors((dir / "model-00002-of-00002.safetensors").string(),
                    {{"b", Tensor({3}, 2.0f)}, {"c", Tensor({1}, 3.0f)}});
  nlohmann::json idx = {{"metadata", {{"total_size", 24}}},
                        {"weight_map",
                         {{"a", "model-00001-of-00002.safetensors"},
                          {"b", "model-00002-of-00002.safetensors"},
                          {"c", "model-00002-of-00002.safetensors"}}}};
  std::ofstream(dir / "model.safetensors.index.json") << idx.dump();
  SafetensorsFile f = read_safetensors_any(dir.string());
  REQUIRE(f.tensors.size() == 3);
  CHECK(f.tensors["b"].data == std::vector<float>{2, 2, 2});
  CHECK(f.metadata["total_size"] == "24");

  SECTION("a tensor the index names but its shard lacks") {
    idx["weight_map"]["d"] = "model-00001-of-00002.safetensors";
    std::ofstream(dir / "model.safetensors.index.json") << idx.dump();
    CHECK_THROWS_WITH(read_safetensors_any(dir.string()), Contains("'d'") && Contains("not in its shard"));
  }
  SECTION("a missing shard") {
    idx["weight_map"]["d"] = "model-00003-of-00002.safetensors";
    std::ofstream(dir / "model.safetensors.index.json") << idx.dump();
    CHECK_THROWS_WITH(read_safetensors_any(dir.string()), Contains("model-00003-of-00002") && Contains("missing"));
  }
}

TEST_CASE("malformed safetensors files give errors naming the file and tensor", "[io][safetensors]") {
  fs::path dir = test::temp_dir("st_bad");
  std::string p = (dir / "bad.safetensors").string();
  float four[4] = {1, 2, 3, 4};
  std::string good_data = bytes_of(four, 16);

  SECTION("missing file") {
    CHECK_THROWS_WITH(read_safetensors((dir / "nope.safetensors").string()), Contains("nope.safetensors") && Contains("no such file"));
  }
  SECTION("shorter than the length prefix") {
    std::ofstream(p, std::ios::binary) << "abc";
    CHECK_THROWS_WITH(read_safetensors(p), Contains(p) && Contains("too short"));
  }
  SECTION("header length beyond the file") {
    write_raw(p, "{}", "", 1000);
    CHECK_THROWS_WITH(read_safetensors(p), Contains(p) && Contains("beyond the end of the file"));
  }
  SECTION("bad JSON") {
    write_raw(p, "{\"a\": [1, 2", "");
    CHECK_THROWS_WITH(read_safetensors(p), Contains(p) && Contains("not valid JSON"));
  }
  SECTION("offsets beyond the data (truncated file)") {
    write_raw(p, R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", good_data.substr(0, 10));
    CHECK_THROWS_WITH(read_safetensors(p), Contains(p) && Contains("'w'") && Contains("truncated"));
  }
  SECTION("unsupported dtype") {
    write_raw(p, R"({"w":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", good_data);
    CHECK_THROWS_WITH(read_safetensors(p), Contains("'w'") && Contains("unsupported dtype I64"));
  }
  SECTION("shape disagrees with the byte span") {
    write_raw(p, R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", good_data);
    CHECK_THROWS_WITH(read_safetensors(p), Contains("'w'") && Contains("needs 12 bytes"));
  }
  SECTION("overlapping tensors") {
    write_raw(p, R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"v":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", good_data);
    CHECK_THROWS_WITH(read_safetensors(p), Contains("overlap"));
  }
  SECTION("negative shape") {
    write_raw(p, R"({"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", good_data);
    CHECK_THROWS_WITH(read_safetensors(p), Contains("'w'") && Contains("non-negative"));
  }
  SECTION("non-string metadata") {
    write_raw(p, R"({"__metadata__":{"k":3}})", "");
    CHECK_THROWS_WITH(read_safetensors(p), Contains("'k'"));
  }
  SECTION("a shape whose byte count wraps past 2^64") {
    // 2^62 F32 values are 2^64 bytes, which wraps to the empty span [0, 0).
    write_raw(p, R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})", "");
    CHECK_THROWS_WITH(read_safetensors(p),
                      Contains(p) && Contains("'w'") && Contains("more than 2^64"));
    write_raw(p, R"({"w":{"dtype":"F16","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}})",
              "");
    CHECK_THROWS_WITH(read_safetensors(p), Contains("'w'") && Contains("more than 2^64"));
  }
  SECTION("a header nested thousands deep") {
    const int depth = 100000;
    write_raw(p, "{\"w\":" + std::string(depth, '[') + std::string(depth, ']') + "}", "");
    CHECK_THROWS_WITH(read_safetensors(p), Contains(p) && Contains("header") &&
                                               Contains("deeper than 64") && Contains("'w'"));
  }
  SECTION("a shard index nested thousands deep") {
    std::ofstream(dir / "model.safetensors.index.json")
        << "{\"weight_map\":" << std::string(5000, '[') << "}";
    CHECK_THROWS_WITH(
        read_safetensors_sharded((dir / "model.safetensors.index.json").string()),
        Contains("index.json") && Contains("deeper than 64") && Contains("'weight_map'"));
  }
  SECTION("writing a tensor whose data disagrees with its shape") {
    Tensor t({2, 2});
    t.data.resize(3);
    CHECK_THROWS_WITH(write_safetensors(p, {{"t", t}}), Contains("'t'") && Contains("3 values"));
    CHECK_FALSE(fs::exists(p));
  }
}
