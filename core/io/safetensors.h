#pragma once
// safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then raw data.
// We read F32/F16/BF16/F64 into float tensors and write F32. Sharded checkpoints are a folder with
// model.safetensors.index.json whose "weight_map" sends each tensor name to a shard file.
#include <istream>
#include <map>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"

namespace attnlab {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// One tensor's header entry, as stored (before conversion).
struct SafetensorsEntry {
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets relative to the data section
};

// Header only: cheap inspection (attnlab info) without reading the data.
struct SafetensorsHeader {
  std::map<std::string, SafetensorsEntry> entries;
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // absolute file offset of the data section
};

// Every malformed input (truncated file, header length beyond the file, bad JSON, offsets out of
// range or overlapping, unsupported dtype, shape/size mismatch) throws attnlab::Error naming the
// file and, where there is one, the tensor.
SafetensorsHeader read_safetensors_header(const std::string& path);
SafetensorsFile read_safetensors(const std::string& path);
// One tensor of a parsed header, read from `in` (an open binary stream of the same file) and
// converted to float32: lets a loader hold one tensor at a time instead of the whole file.
Tensor read_safetensors_tensor(std::istream& in, const std::string& path, const SafetensorsHeader& h,
                               const std::string& name);

// Reads a sharded checkpoint from its index file (model.safetensors.index.json). Every tensor the
// weight_map names must be in its shard; a shard's extra tensors are an error too.
SafetensorsFile read_safetensors_sharded(const std::string& index_path);

// A path that is a .safetensors file, an index .json, or a folder holding model.safetensors or
// model.safetensors.index.json.
SafetensorsFile read_safetensors_any(const std::string& path);

// Writes F32 tensors atomically (temp file + rename). Each tensor's data size must match its shape.
void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace attnlab
