// attnlab info: a checkpoint's format, config, parameter count and tokenizer (any format
// core/io reads), or a preset's config with --preset.
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/io/open_model.h"
#include "core/tensor/error.h"
#include "experiments/cli/cli_options.h"

namespace attnlab::cli {

int cmd_info(const Args& args) {
  po::options_description desc("info options");
  std::string path, preset;
  desc.add_options()("model", po::value(&path), "checkpoint file or folder")(
      "preset", po::value(&preset), "show a preset's config instead")(
      "json", "print the config as JSON only");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_options(args, "attnlab info MODEL [--json] | attnlab info --preset NAME", desc, vm,
                     &pos))
    return 0;
  if (!preset.empty()) {
    std::cout << nlohmann::json(preset_config(preset)).dump(vm.count("json") ? -1 : 2) << "\n";
    return 0;
  }
  if (path.empty()) throw Error("give a checkpoint path (or --preset NAME)");
  OpenedModel m = open_model(path);
  const ModelConfig& c = m.model->config();
  if (vm.count("json")) {
    std::cout << nlohmann::json(c).dump() << "\n";
    return 0;
  }
  std::cout << "path:        " << m.path << "\n"
            << "format:      " << m.format << "\n"
            << "family:      " << c.family << "\n"
            << "parameters:  " << m.model->num_params() << "\n"
            << "layers:      " << c.n_layers << "   heads: " << c.n_heads
            << "   kv heads: " << c.n_kv_heads << "   d_model: " << c.d_model
            << "   d_ff: " << c.d_ff << "\n"
            << "vocab:       " << c.vocab_size << "   context: " << c.context << "\n"
            << "positions:   " << to_string(c.pos);
  if (c.pos == PosEncoding::rope)
    std::cout << " (" << to_string(c.rope_style) << ", theta " << c.rope_theta << ", "
              << c.rotary_dims() << "/" << c.head_dim() << " dims)";
  std::cout << "\nnorm/mlp:    " << to_string(c.norm) << " / " << to_string(c.mlp)
            << (c.bias ? ", biases" : "") << (c.parallel_residual ? ", parallel residual" : "")
            << (c.tied_embeddings ? ", tied embeddings" : "") << "\n"
            << "attention:   ";
  for (size_t i = 0; i < c.attention.size(); ++i) std::cout << (i ? "; " : "") << c.attention[i];
  std::cout << "\ntokenizer:   "
            << (m.tokenizer ? m.tokenizer->kind() + " (" + std::to_string(m.tokenizer->vocab_size()) +
                                  " tokens, BOS " + m.tokenizer->bos_policy() + ")"
                            : std::string("none"))
            << "\n";
  for (const auto& [k, v] : m.notes) std::cout << k << ": " << v << "\n";
  return 0;
}

}  // namespace attnlab::cli
