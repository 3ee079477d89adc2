// Hugging Face config.json (core/io/hf_model.*): the input is config.json in a model folder
// whose model.safetensors is a fixed tiny GPT-2 (1 layer, n_embd 4, 2 heads, n_positions 8,
// vocab 16), matching fuzz/seeds/hf_config/gpt2.json, so mutated configs reach the shape checks
// and the mapping rather than stopping at the first missing tensor.
#include <filesystem>

#include "core/io/hf_model.h"
#include "core/io/safetensors.h"
#include "fuzz/feeds.h"
#include "fuzz/fuzz_support.h"

namespace {

// The folder, written once per process.
const std::string& model_dir() {
  static const std::string dir = [] {
    std::string d = attnlab::fuzz::temp_dir() + "/hf";
    std::filesystem::create_directories(d);
    const int64_t D = 4, F = 16, V = 16, C = 8;
    std::map<std::string, attnlab::Tensor> t;
    auto add = [&](const std::string& name, std::vector<int64_t> shape) {
      attnlab::Tensor x(shape);
      for (size_t i = 0; i < x.data.size(); ++i) x.data[i] = 0.01f * float(i % 7);
      t["transformer." + name] = std::move(x);
    };
    add("wte.weight", {V, D});
    add("wpe.weight", {C, D});
    add("h.0.ln_1.weight", {D});
    add("h.0.ln_1.bias", {D});
    add("h.0.attn.c_attn.weight", {D, 3 * D});
    add("h.0.attn.c_attn.bias", {3 * D});
    add("h.0.attn.c_proj.weight", {D, D});
    add("h.0.attn.c_proj.bias", {D});
    add("h.0.ln_2.weight", {D});
    add("h.0.ln_2.bias", {D});
    add("h.0.mlp.c_fc.weight", {D, F});
    add("h.0.mlp.c_fc.bias", {F});
    add("h.0.mlp.c_proj.weight", {F, D});
    add("h.0.mlp.c_proj.bias", {D});
    add("ln_f.weight", {D});
    add("ln_f.bias", {D});
    attnlab::write_safetensors(d + "/model.safetensors", t);
    return d;
  }();
  return dir;
}

}  // namespace

void attnlab::fuzz::feed_hf_config(const uint8_t* data, size_t size) {
  const std::string& dir = model_dir();
  // load_hf_folder reads config.json from the folder.
  write_temp_file("hf/config.json", data, size);
  load_hf_folder(dir);
}

ATTNLAB_FUZZ_ENTRY(feed_hf_config)
