#include "core/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "core/io/atomic_write.h"
#include "core/io/half.h"
#include "core/tensor/error.h"
#include "core/util/checked_math.h"
#include "core/util/json_input.h"

namespace attnlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Header sizes beyond this are corrupt rather than real (the reference implementation caps at 100 MB).
constexpr uint64_t kMaxHeader = 100ull << 20;

int dtype_size(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  if (dtype == "F64") return 8;
  return 0;
}

[[noreturn]] void fail(const std::string& path, const std::string& msg) {
  throw Error("safetensors " + path + ": " + msg);
}

SafetensorsEntry parse_entry(const std::string& path, const std::string& name, const json& v,
                             uint64_t data_size) {
  const std::string where = "tensor '" + name + "'";
  if (!v.is_object()) fail(path, where + ": header entry is not an object");
  SafetensorsEntry e;
  if (!v.contains("dtype") || !v["dtype"].is_string()) fail(path, where + ": missing string 'dtype'");
  e.dtype = v["dtype"].get<std::string>();
  if (dtype_size(e.dtype) == 0)
    fail(path, where + ": unsupported dtype " + e.dtype + " (supported: F32, F16, BF16, F64)");
  if (!v.contains("shape") || !v["shape"].is_array()) fail(path, where + ": missing array 'shape'");
  for (const json& d : v["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0)
      fail(path, where + ": shape entries must be non-negative integers, got " + v["shape"].dump());
    e.shape.push_back(d.get<int64_t>());
  }
  if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2 ||
      !v["data_offsets"][0].is_number_unsigned() || !v["data_offsets"][1].is_number_unsigned())
    fail(path, where + ": 'data_offsets' must be [begin, end] non-negative integers");
  e.begin = v["data_offsets"][0].get<uint64_t>();
  e.end = v["data_offsets"][1].get<uint64_t>();
  if (e.begin > e.end)
    fail(path, where + ": data_offsets begin " + std::to_string(e.begin) + " > end " + std::to_string(e.end));
  if (e.end > data_size)
    fail(path, where + ": data_offsets end " + std::to_string(e.end) + " is beyond the data section (" +
                   std::to_string(data_size) + " bytes; file truncated?)");
  // A wrapped product (shape [2^62] of F32 is 2^64 bytes = 0) would pass the size check.
  std::optional<uint64_t> numel = checked_numel(e.shape);
  std::optional<uint64_t> want = numel ? checked_mul(*numel, dtype_size(e.dtype)) : std::nullopt;
  if (!want || e.end - e.begin != *want)
    fail(path, where + ": shape " + shape_to_string(e.shape) + " of " + e.dtype + " needs " +
                   (want ? std::to_string(*want) : "more than 2^64") +
                   " bytes but data_offsets span " + std::to_string(e.end - e.begin));
  return e;
}

void convert(const std::string& dtype, const unsigned char* src, float* dst, size_t n) {
  if (dtype == "F32") {
    std::memcpy(dst, src, n * 4);
  } else if (dtype == "F16" || dtype == "BF16") {
    bool bf = dtype == "BF16";
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = bf ? bf16_to_float(h) : fp16_to_float(h);
    }
  } else {  // F64
    for (size_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, src + 8 * i, 8);
      dst[i] = static_cast<float>(d);
    }
  }
}

}  // namespace

SafetensorsHeader read_safetensors_header(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail(path, "no such file");
  uint64_t file_size = fs::file_size(path, ec);
  if (ec) fail(path, "cannot stat: " + ec.message());
  if (file_size < 8) fail(path, "file is " + std::to_string(file_size) + " bytes, too short for the header length");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  unsigned char lenbuf[8];
  in.read(reinterpret_cast<char*>(lenbuf), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | lenbuf[i];
  if (n > kMaxHeader) fail(path, "header length " + std::to_string(n) + " is implausibly large (corrupt file?)");
  if (8 + n > file_size)
    fail(path, "header length " + std::to_string(n) + " is beyond the end of the file (" +
                   std::to_string(file_size) + " bytes; truncated?)");
  std::string text(n, '\0');
  in.read(text.data(), static_cast<std::streamsize>(n));
  if (!in) fail(path, "cannot read the header");
  json j;
  try {
    j = parse_json_bounded(text, "safetensors " + path + ": header");
  } catch (const json::exception& e) {
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) fail(path, "header is not a JSON object");

  SafetensorsHeader h;
  h.data_start = 8 + n;
  uint64_t data_size = file_size - h.data_start;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) fail(path, "__metadata__ is not an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string()) fail(path, "__metadata__ value for '" + m.key() + "' is not a string");
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    h.entries[it.key()] = parse_entry(path, it.key(), it.value(), data_size);
  }
  // Tensors must not share bytes: overlapping ranges mean a corrupt or hostile header.
  std::vector<std::pair<uint64_t, const std::string*>> starts;
  for (const auto& [name, e] : h.entries)
    if (e.end > e.begin) starts.push_back({e.begin, &name});
  std::sort(starts.begin(), starts.end());
  for (size_t i = 1; i < starts.size(); ++i) {
    const SafetensorsEntry& prev = h.entries.at(*starts[i - 1].second);
    if (prev.end > starts[i].first)
      fail(path, "tensors '" + *starts[i - 1].second + "' and '" + *starts[i].second + "' overlap in the data section");
  }
  return h;
}

Tensor read_safetensors_tensor(std::istream& in, const std::string& path, const SafetensorsHeader& h,
                               const std::string& name) {
  auto it = h.entries.find(name);
  if (it == h.entries.end()) fail(path, "no tensor '" + name + "'");
  const SafetensorsEntry& e = it->second;
  Tensor t(e.shape);
  const size_t bytes = static_cast<size_t>(e.end - e.begin);
  in.seekg(static_cast<std::streamoff>(h.data_start + e.begin));
  if (e.dtype == "F32") {
    in.read(reinterpret_cast<char*>(t.ptr()), static_cast<std::streamsize>(bytes));
  } else {
    std::vector<unsigned char> buf(bytes);
    in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(bytes));
    convert(e.dtype, buf.data(), t.ptr(), static_cast<size_t>(t.numel()));
  }
  if (!in) fail(path, "tensor '" + name + "': read failed");
  return t;
}

SafetensorsFile read_safetensors(const std::string& path) {
  SafetensorsHeader h = read_safetensors_header(path);
  SafetensorsFile out;
  out.metadata = h.metadata;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  for (const auto& entry : h.entries) out.tensors.emplace(entry.first, read_safetensors_tensor(in, path, h, entry.first));
  return out;
}

SafetensorsFile read_safetensors_sharded(const std::string& index_path) {
  std::ifstream in(index_path);
  if (!in) throw Error("safetensors index " + index_path + ": cannot open");
  json j;
  try {
    j = parse_json_bounded(in, "safetensors index " + index_path);
  } catch (const json::exception& e) {
    throw Error("safetensors index " + index_path + ": not valid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw Error("safetensors index " + index_path + ": missing object 'weight_map'");
  fs::path folder = fs::path(index_path).parent_path();
  std::map<std::string, std::set<std::string>> by_shard;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string())
      throw Error("safetensors index " + index_path + ": weight_map entry '" + it.key() + "' is not a file name");
    std::string shard = it.value().get<std::string>();
    if (shard.find("..") != std::string::npos || fs::path(shard).is_absolute())
      throw Error("safetensors index " + index_path + ": shard name '" + shard + "' leaves the folder");
    by_shard[shard].insert(it.key());
  }
  SafetensorsFile out;
  if (j.contains("metadata") && j["metadata"].is_object())
    for (auto m = j["metadata"].begin(); m != j["metadata"].end(); ++m)
      out.metadata[m.key()] = m.value().is_string() ? m.value().get<std::string>() : m.value().dump();
  for (const auto& [shard, names] : by_shard) {
    std::string shard_path = (folder / shard).string();
    if (!fs::exists(shard_path))
      throw Error("safetensors index " + index_path + ": shard " + shard + " (holding '" + *names.begin() +
                  "') is missing");
    SafetensorsFile part = read_safetensors(shard_path);
    for (const std::string& name : names)
      if (!part.tensors.count(name))
        throw Error("safetensors index " + index_path + ": tensor '" + name + "' is not in its shard " + shard);
    for (auto& [name, t] : part.tensors) {
      if (!names.count(name))
        throw Error("safetensors index " + index_path + ": shard " + shard + " holds tensor '" + name +
                    "' that the weight_map does not send there");
      out.tensors.emplace(name, std::move(t));
    }
    for (auto& [k, v] : part.metadata) out.metadata.emplace(k, v);
  }
  return out;
}

SafetensorsFile read_safetensors_any(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    fs::path single = fs::path(path) / "model.safetensors";
    fs::path index = fs::path(path) / "model.safetensors.index.json";
    if (fs::exists(single)) return read_safetensors(single.string());
    if (fs::exists(index)) return read_safetensors_sharded(index.string());
    throw Error("folder " + path + " has neither model.safetensors nor model.safetensors.index.json");
  }
  if (path.size() >= 5 && path.substr(path.size() - 5) == ".json") return read_safetensors_sharded(path);
  return read_safetensors(path);
}

void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") throw Error("cannot write " + path + ": '__metadata__' is reserved");
    if (static_cast<int64_t>(t.data.size()) != shape_numel(t.shape))
      throw Error("cannot write " + path + ": tensor '" + name + "' has shape " + t.shape_str() + " but " +
                  std::to_string(t.data.size()) + " values");
    if (t.device != Device::cpu)
      throw Error("cannot write " + path + ": tensor '" + name + "' is not on the CPU");
    uint64_t bytes = t.data.size() * 4;
    header[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');  // keeps the data section 8-byte aligned
  write_file_atomic(path, [&](std::ostream& out) {
    uint64_t n = text.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& [name, t] : tensors)
      out.write(reinterpret_cast<const char*>(t.ptr()), static_cast<std::streamsize>(t.data.size() * 4));
  });
}

}  // namespace attnlab
