#include "core/io/load_checkpoint.h"

#include <filesystem>
#include <fstream>

#include "core/io/checkpoint.h"
#include "core/io/gguf_model.h"
#include "core/io/hf_model.h"
#include "core/io/llama2c.h"
#include "core/tensor/error.h"
#include "core/tokenizer/vocab_tokenizer.h"

namespace attnlab {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

LoadedModel from_attnlab(const std::string& path) {
  std::unique_ptr<Transformer> model;
  LoadedModel m = load_attnlab_model(path, model);
  m.weights = model->take_weights();
  return m;
}

}  // namespace

LoadedModel load_attnlab_model(const std::string& path, std::unique_ptr<Transformer>& model) {
  LoadedAttnlabCheckpoint ck = load_attnlab_checkpoint(path);
  LoadedModel m;
  m.format = "attnlab";
  m.path = path;
  m.config = ck.model->config();
  auto vocab = ck.extras.metadata.find("attnlab.vocab");
  // "[]": a continuous-input model (in-context regression) has no tokens; files written before
  // training_vocab_metadata left the key out for such models still say so.
  if (vocab != ck.extras.metadata.end() && vocab->second != "[]") {
    try {
      m.tokenizer = vocab_tokenizer_from_json(vocab->second);
    } catch (const Error& e) {
      throw Error(path + ": " + e.what());
    }
  }
  for (const auto& [k, v] : ck.extras.metadata)
    if (k == "attnlab.task") m.notes["task"] = v;
  model = std::move(ck.model);
  return m;
}

std::string detect_checkpoint_format(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error("checkpoint " + path + ": no such file or folder");
  if (fs::is_directory(path, ec)) {
    if (is_hf_folder(path)) return "hf";
    throw Error(
        "checkpoint folder " + path +
        " has no config.json (a Hugging Face folder needs config.json + model.safetensors)");
  }
  char magic[4] = {0, 0, 0, 0};
  std::ifstream(path, std::ios::binary).read(magic, 4);
  // A known extension commits to its format, so a damaged file gets that reader's precise error.
  if (std::string(magic, 4) == "GGUF" || ends_with(path, ".gguf")) return "gguf";
  if (ends_with(path, ".safetensors")) {
    if (is_attnlab_checkpoint(path)) return "attnlab";
    if (is_hf_folder(fs::path(path).parent_path().string())) return "hf";
    throw Error(
        "checkpoint " + path +
        ": a safetensors file with neither attnlab.config metadata nor a config.json beside it");
  }
  if (ends_with(path, ".bin") || looks_like_llama2c(path)) return "llama2c";
  throw Error("checkpoint " + path +
              ": format not recognized (supported: attnlab .safetensors, Hugging Face folder, "
              ".gguf, llama2.c .bin)");
}

LoadedModel load_checkpoint(const std::string& path, const LoadOptions& options) {
  std::string format = detect_checkpoint_format(path);
  if (format == "attnlab") return from_attnlab(path);
  if (format == "hf")
    return load_hf_folder(fs::is_directory(path) ? path : fs::path(path).parent_path().string());
  if (format == "gguf") return load_gguf_model(path);
  return load_llama2c(path, options.tokenizer_path);
}

}  // namespace attnlab
