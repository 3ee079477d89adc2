// attnlab generate: samples from any checkpoint; greedy at temperature 0 (the default).
#include <iostream>

#include "core/io/open_model.h"
#include "core/tensor/error.h"
#include "experiments/cli/cli_options.h"

namespace attnlab::cli {

int cmd_generate(const Args& args) {
  po::options_description desc("generate options");
  std::string path, prompt, tokenizer_path;
  SampleOptions so;
  desc.add_options()("model", po::value(&path), "checkpoint file or folder")(
      "prompt", po::value(&prompt)->default_value(""), "text to continue")(
      "tokenizer", po::value(&tokenizer_path), "tokenizer file (llama2.c models stored apart)")(
      "max-new", po::value(&so.max_new)->default_value(256), "tokens to generate at most")(
      "temperature", po::value(&so.temperature)->default_value(0.0f), "0 = greedy argmax")(
      "top-p", po::value(&so.top_p)->default_value(1.0f), "nucleus sampling mass")(
      "seed", po::value(&so.seed)->default_value(0), "sampling seed");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_options(args, "attnlab generate MODEL [--prompt TEXT] [options]", desc, vm, &pos))
    return 0;
  if (path.empty()) throw Error("give a checkpoint path");
  LoadOptions lo;
  lo.tokenizer_path = tokenizer_path;
  OpenedModel m = open_model(path, lo);
  if (!m.tokenizer) throw Error(path + ": the checkpoint carries no tokenizer (pass --tokenizer)");
  std::vector<int32_t> ids = m.tokenizer->encode_for_model(prompt);
  if (ids.empty()) throw Error("the prompt is empty and the model has no BOS token to start from");
  // llama2.c semantics: a model that starts sequences with BOS also ends them with it.
  so.stop_token = m.tokenizer->bos_policy() == "prepend" ? m.tokenizer->bos_id() : m.tokenizer->eos_id();
  std::vector<int32_t> out = generate(*m.model, ids, so);
  std::vector<int32_t> all = ids;
  all.insert(all.end(), out.begin(), out.end());
  std::cout << m.tokenizer->decode(all) << std::endl;
  return 0;
}

}  // namespace attnlab::cli
