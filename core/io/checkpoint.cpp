#include "core/io/checkpoint.h"

#include <filesystem>
#include <nlohmann/json.hpp>

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

uint64_t tensor_values(const SafetensorsFile& f) {
  uint64_t n = 0;
  for (const auto& [name, t] : f.tensors) n += t.data.size();  // all in memory: no overflow
  return n;
}

}  // namespace

LoadedAttnlabCheckpoint load_attnlab_checkpoint(const std::string& path) {
  SafetensorsFile f = read_safetensors(path);
  auto it = f.metadata.find("attnlab.config");
  if (it == f.metadata.end())
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
  validate_config_sizes_for_file(cfg, where, tensor_values(f));
  LoadedAttnlabCheckpoint out;
  out.model = std::make_unique<Transformer>(cfg);
  std::map<std::string, Tensor> weights;
  for (const Param& p : out.model->params()) {
    auto w = f.tensors.find(p.name);
    if (w == f.tensors.end()) throw Error(path + ": missing tensor '" + p.name + "'");
    weights[p.name] = std::move(w->second);
    f.tensors.erase(w);
  }
  try {
    out.model->load_weights(weights);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  out.extras.tensors = std::move(f.tensors);
  for (auto& [k, v] : f.metadata)
    if (k != "attnlab.config" && k != "format") out.extras.metadata[k] = v;
  return out;
}

}  // namespace attnlab
