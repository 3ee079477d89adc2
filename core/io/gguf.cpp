#include "core/io/gguf.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include "core/io/ggml_quants.h"
#include "core/tensor/error.h"
#include "core/util/checked_math.h"
#include "core/util/json_input.h"

namespace attnlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

enum GgufValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9,
  U64 = 10, I64 = 11, F64 = 12,
};

// Bounds-checked little-endian reads; every failure names the file and what was being read.
class Reader {
 public:
  Reader(const std::string& path, uint64_t size) : path_(path), in_(path, std::ios::binary), size_(size) {
    if (!in_) throw Error("gguf " + path + ": cannot open");
  }
  template <class T>
  T pod(const std::string& what) {
    T v;
    bytes(&v, sizeof v, what);
    return v;
  }
  void bytes(void* dst, uint64_t n, const std::string& what) {
    if (n > size_ - pos_) fail("truncated while reading " + what);
    in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (!in_) fail("read failed at " + what);
    pos_ += n;
  }
  std::string str(const std::string& what) {
    uint64_t n = pod<uint64_t>(what + " length");
    if (n > size_ - pos_) fail("string length " + std::to_string(n) + " of " + what + " runs past the end of the file (truncated?)");
    std::string s(n, '\0');
    bytes(s.data(), n, what);
    return s;
  }
  uint64_t pos() const { return pos_; }
  uint64_t size() const { return size_; }
  [[noreturn]] void fail(const std::string& msg) const { throw Error("gguf " + path_ + ": " + msg); }

 private:
  std::string path_;
  std::ifstream in_;
  uint64_t size_, pos_ = 0;
};

json read_scalar(Reader& r, uint32_t type, const std::string& key) {
  switch (type) {
    case U8: return r.pod<uint8_t>(key);
    case I8: return r.pod<int8_t>(key);
    case U16: return r.pod<uint16_t>(key);
    case I16: return r.pod<int16_t>(key);
    case U32: return r.pod<uint32_t>(key);
    case I32: return r.pod<int32_t>(key);
    case F32: return r.pod<float>(key);
    case BOOL: return r.pod<uint8_t>(key) != 0;
    case STRING: return r.str(key);
    case U64: return r.pod<uint64_t>(key);
    case I64: return r.pod<int64_t>(key);
    case F64: return r.pod<double>(key);
    default: r.fail("metadata key '" + key + "' has unknown value type " + std::to_string(type));
  }
}

// Arrays of arrays recurse once per level; a crafted file can nest them tens of thousands deep
// in a few hundred kilobytes and overflow the stack. Real files nest at most two levels.
constexpr int kMaxArrayDepth = 64;

json read_value(Reader& r, uint32_t type, const std::string& key, int depth = 0) {
  if (type != ARRAY) return read_scalar(r, type, key);
  if (depth >= kMaxArrayDepth)
    r.fail("metadata '" + key + "' nests arrays deeper than " + std::to_string(kMaxArrayDepth) +
           " levels");
  uint32_t elem = r.pod<uint32_t>(key + " array type");
  uint64_t n = r.pod<uint64_t>(key + " array length");
  if (n > r.size() - r.pos()) r.fail("array length " + std::to_string(n) + " of '" + key + "' runs past the end of the file (truncated?)");
  json arr = json::array();
  for (uint64_t i = 0; i < n; ++i) arr.push_back(read_value(r, elem, key, depth + 1));
  return arr;
}

// Size and place of one tensor's data, all in checked arithmetic: dimensions, offsets and the
// data start come from the file, and a wrapped product or sum would slip past the bounds check.
void place_tensor(Reader& r, GgufTensorInfo& t, uint64_t data_start, uint64_t alignment) {
  const GgmlTypeInfo* info = ggml_type_info(t.type);
  if (!info) r.fail("tensor '" + t.name + "' has unsupported ggml " + ggml_type_name(t.type));
  std::optional<uint64_t> numel = checked_numel(t.shape);
  if (!numel)
    r.fail("tensor '" + t.name + "' shape " + shape_to_string(t.shape) +
           " has more elements than fit in 64 bits");
  if (*numel % info->block_size != 0)
    r.fail("tensor '" + t.name + "' has " + std::to_string(*numel) +
           " elements, not a multiple of " + info->name + "'s block size " +
           std::to_string(info->block_size));
  std::optional<uint64_t> bytes = checked_mul(*numel / info->block_size, info->block_bytes);
  if (t.offset % alignment != 0)
    r.fail("tensor '" + t.name + "' offset " + std::to_string(t.offset) +
           " is not a multiple of general.alignment " + std::to_string(alignment));
  std::optional<uint64_t> begin = checked_add(data_start, t.offset);
  std::optional<uint64_t> end = begin && bytes ? checked_add(*begin, *bytes) : std::nullopt;
  if (!end || *end > r.size())
    r.fail("tensor '" + t.name + "' data (" + (bytes ? std::to_string(*bytes) : "over 2^64") +
           " bytes at offset " + std::to_string(t.offset) + " after the data start " +
           std::to_string(data_start) + ") runs past the end of the file (" +
           std::to_string(r.size()) + " bytes; truncated?)");
  t.offset = *begin;
  t.bytes = *bytes;
}

// Tensors sharing bytes mean a corrupt or hostile file (each would decode the other's data).
void check_no_overlap(Reader& r, const std::map<std::string, GgufTensorInfo>& tensors) {
  std::vector<const GgufTensorInfo*> by_offset;
  for (const auto& [name, t] : tensors)
    if (t.bytes > 0) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i - 1]->offset + by_offset[i - 1]->bytes > by_offset[i]->offset)
      r.fail("tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name +
             "' overlap in the data section");
}

}  // namespace

const json& GgufFile::at(const std::string& key) const {
  auto it = metadata.find(key);
  if (it == metadata.end()) throw Error("gguf " + path + ": missing metadata key '" + key + "'");
  return it->second;
}

int64_t GgufFile::get_int(const std::string& key) const {
  const json& v = at(key);
  if (!v.is_number_integer()) throw Error("gguf " + path + ": metadata '" + key + "' is not an integer: " + v.dump());
  return v.get<int64_t>();
}

int64_t GgufFile::get_int(const std::string& key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}

double GgufFile::get_float(const std::string& key, double fallback) const {
  if (!has(key)) return fallback;
  const json& v = at(key);
  if (!v.is_number()) throw Error("gguf " + path + ": metadata '" + key + "' is not a number: " + v.dump());
  return v.get<double>();
}

std::string GgufFile::get_string(const std::string& key) const {
  const json& v = at(key);
  if (!v.is_string()) throw Error("gguf " + path + ": metadata '" + key + "' is not a string");
  return v.get<std::string>();
}

bool GgufFile::get_bool(const std::string& key, bool fallback) const {
  return has(key) ? json_get<bool>(at(key), key, "gguf " + path + ": metadata") : fallback;
}

namespace {

// Every element of an array value, each read as T; errors name the key and the element.
template <class T>
std::vector<T> get_array(const GgufFile& f, const std::string& key) {
  const json& v = f.at(key);
  if (!v.is_array()) throw Error("gguf " + f.path + ": metadata '" + key + "' is not an array");
  std::vector<T> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out.push_back(
        json_get<T>(v[i], key + "[" + std::to_string(i) + "]", "gguf " + f.path + ": metadata"));
  return out;
}

}  // namespace

std::vector<std::string> GgufFile::get_strings(const std::string& key) const {
  return get_array<std::string>(*this, key);
}
std::vector<double> GgufFile::get_floats(const std::string& key) const {
  return get_array<double>(*this, key);
}
std::vector<int64_t> GgufFile::get_ints(const std::string& key) const {
  return get_array<int64_t>(*this, key);
}

GgufFile read_gguf(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw Error("gguf " + path + ": no such file");
  uint64_t size = fs::file_size(path, ec);
  Reader r(path, size);
  GgufFile f;
  f.path = path;
  char magic[4];
  r.bytes(magic, 4, "magic");
  if (std::string(magic, 4) != "GGUF") r.fail("not a GGUF file (magic is not 'GGUF')");
  f.version = r.pod<uint32_t>("version");
  if (f.version != 2 && f.version != 3)
    r.fail("unsupported GGUF version " + std::to_string(f.version) + " (supported: 2, 3)");
  uint64_t n_tensors = r.pod<uint64_t>("tensor count");
  uint64_t n_kv = r.pod<uint64_t>("metadata count");
  if (n_tensors > size || n_kv > size) r.fail("tensor or metadata count is larger than the file (corrupt header)");
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = r.str("metadata key #" + std::to_string(i));
    uint32_t type = r.pod<uint32_t>("type of '" + key + "'");
    f.metadata[key] = read_value(r, type, key);
  }
  std::vector<GgufTensorInfo> infos;
  std::set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = r.str("tensor name #" + std::to_string(i));
    if (!names.insert(t.name).second) r.fail("tensor '" + t.name + "' appears twice");
    uint32_t nd = r.pod<uint32_t>("dims of '" + t.name + "'");
    if (nd > 8) r.fail("tensor '" + t.name + "' has " + std::to_string(nd) + " dimensions");
    std::vector<int64_t> ne(nd);
    for (uint32_t d = 0; d < nd; ++d) {
      uint64_t v = r.pod<uint64_t>("shape of '" + t.name + "'");
      if (v > (1ull << 40)) r.fail("tensor '" + t.name + "' has an absurd dimension " + std::to_string(v));
      ne[d] = static_cast<int64_t>(v);
    }
    t.shape.assign(ne.rbegin(), ne.rend());
    t.type = r.pod<uint32_t>("type of '" + t.name + "'");
    t.offset = r.pod<uint64_t>("offset of '" + t.name + "'");
    infos.push_back(std::move(t));
  }
  uint64_t alignment = static_cast<uint64_t>(f.get_int("general.alignment", 32));
  if (alignment == 0 || (alignment & (alignment - 1)) || alignment > (1u << 20))
    r.fail("general.alignment " + std::to_string(alignment) + " is not a power of two up to 2^20");
  uint64_t data_start = (r.pos() + alignment - 1) / alignment * alignment;
  for (GgufTensorInfo& t : infos) {
    place_tensor(r, t, data_start, alignment);
    f.tensors[t.name] = t;
  }
  check_no_overlap(r, f.tensors);
  return f;
}

Tensor read_gguf_tensor(const GgufFile& file, const std::string& name) {
  auto it = file.tensors.find(name);
  if (it == file.tensors.end()) throw Error("gguf " + file.path + ": missing tensor '" + name + "'");
  const GgufTensorInfo& t = it->second;
  std::ifstream in(file.path, std::ios::binary);
  std::vector<unsigned char> raw(t.bytes);
  in.seekg(static_cast<std::streamoff>(t.offset));
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(t.bytes));
  if (!in) throw Error("gguf " + file.path + ": cannot read tensor '" + name + "'");
  Tensor out(t.shape);
  ggml_dequantize(t.type, raw.data(), out.ptr(), out.numel());
  return out;
}

}  // namespace attnlab
