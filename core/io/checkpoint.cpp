#include "core/io/checkpoint.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/io/safetensors.h"
#include "core/tensor/error.h"
#include "core/util/json_input.h"

namespace attnlab {

void save_checkpoint(const std::string& path, Transformer& model, const CheckpointExtras& extras) {
  std::map<std::string, Tensor> tensors = model.weights();
  for (const auto& [name, t] : extras.tensors) tensors[name] = t;
  std::map<std::string, std::string> meta = extras.metadata;
  meta["attnlab.config"] = nlohmann::json(model.config()).dump();
  meta["format"] = "pt";  // lets the Hugging Face safetensors loaders open it
  write_safetensors(path, tensors, meta);
}

bool is_attnlab_checkpoint(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) return false;
  try {
    return read_safetensors_header(path).metadata.count("attnlab.config") > 0;
  } catch (const Error&) {
    return false;
  }
}

namespace {

uint64_t tensor_values(const SafetensorsHeader& h) {
  uint64_t n = 0;
  for (const auto& [name, e] : h.entries) {
    uint64_t k = 1;
    for (int64_t d : e.shape) k *= uint64_t(d);
    n += k;  // the header's sizes were checked against the file: no overflow
  }
  return n;
}

}  // namespace

LoadedAttnlabCheckpoint load_attnlab_checkpoint(const std::string& path) {
  const SafetensorsHeader h = read_safetensors_header(path);
  auto it = h.metadata.find("attnlab.config");
  if (it == h.metadata.end())
    throw Error(path + ": not an attnlab checkpoint (no 'attnlab.config' in the metadata)");
  const std::string where = path + ": attnlab.config";
  nlohmann::json j;
  try {
    j = parse_json_bounded(it->second, where);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": corrupted attnlab.config metadata: " + e.what());
  }
  ModelConfig cfg;
  try {
    from_json(j, cfg);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  // The Transformer is allocated from the config before the file's tensors are matched with it.
  validate_config_sizes_for_file(cfg, where, tensor_values(h));
  LoadedAttnlabCheckpoint out;
  out.model = std::make_unique<Transformer>(cfg);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  // Tensor by tensor into the model's parameters, so the weights are never in memory twice.
  std::set<std::string> params;
  for (const Param& p : out.model->params()) {
    if (!h.entries.count(p.name)) throw Error(path + ": missing tensor '" + p.name + "'");
    params.insert(p.name);
  }
  for (const auto& entry : h.entries) {
    Tensor t = read_safetensors_tensor(in, path, h, entry.first);
    if (!params.count(entry.first)) {
      out.extras.tensors.emplace(entry.first, std::move(t));
      continue;
    }
    try {
      out.model->load_weight(entry.first, std::move(t));
    } catch (const Error& e) {
      throw Error(path + ": " + e.what());
    }
  }
  for (const auto& [k, v] : h.metadata)
    if (k != "attnlab.config" && k != "format") out.extras.metadata[k] = v;
  return out;
}

}  // namespace attnlab
