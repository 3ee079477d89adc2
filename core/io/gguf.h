#pragma once
// GGUF v2/v3 (llama.cpp's model file): a header, typed key/value metadata, tensor descriptors,
// then aligned tensor data. Tensors are dequantized to float on load.
// ggml lists dimensions innermost first; our shapes are outermost first (PyTorch order), so a
// ggml tensor with ne = [in, out] becomes shape [out, in].
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor/tensor.h"

namespace attnlab {

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // outermost first
  uint32_t type = 0;           // GgmlType
  uint64_t offset = 0;         // absolute file offset of the data
  uint64_t bytes = 0;
};

struct GgufFile {
  std::string path;
  uint32_t version = 0;
  // Scalars become JSON numbers/bools/strings, arrays JSON arrays.
  std::map<std::string, nlohmann::json> metadata;
  std::map<std::string, GgufTensorInfo> tensors;

  bool has(const std::string& key) const { return metadata.count(key) > 0; }
  // Typed lookups; a missing key or wrong type is an attnlab::Error naming the key and file.
  const nlohmann::json& at(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  double get_float(const std::string& key, double fallback) const;
  std::string get_string(const std::string& key) const;
  bool get_bool(const std::string& key, bool fallback) const;
  // Arrays: a non-array, or an element of the wrong type, is an Error naming the key and index.
  std::vector<std::string> get_strings(const std::string& key) const;
  std::vector<double> get_floats(const std::string& key) const;
  std::vector<int64_t> get_ints(const std::string& key) const;
};

// Reads the header, metadata and tensor descriptors, and checks every tensor's data lies inside
// the file, aligned and apart from the others; metadata arrays nest at most 64 levels. Throws
// attnlab::Error naming the file and the key or tensor at fault.
GgufFile read_gguf(const std::string& path);

// Reads and dequantizes one tensor.
Tensor read_gguf_tensor(const GgufFile& file, const std::string& name);

}  // namespace attnlab
