// attnlab export: writes any checkpoint attnlab reads as a Hugging Face folder (config.json +
// model.safetensors + tokenizer.json where the tokenizer has an exact form), so transformers and
// other tools can load what attnlab trained.
#include <iostream>

#include "core/io/hf_export.h"
#include "core/io/load_checkpoint.h"
#include "core/tensor/error.h"
#include "experiments/cli/cli_options.h"

namespace attnlab::cli {

int cmd_export(const Args& args) {
  po::options_description desc("export options");
  std::string path, out, tokenizer_path;
  desc.add_options()("model", po::value(&path), "checkpoint file or folder")(
      "out", po::value(&out), "folder to write (created if missing)")(
      "tokenizer", po::value(&tokenizer_path), "tokenizer file (llama2.c models stored apart)");
  po::positional_options_description pos;
  pos.add("model", 1).add("out", 1);
  po::variables_map vm;
  if (!parse_options(args, "attnlab export MODEL OUT_FOLDER", desc, vm, &pos)) return 0;
  if (path.empty() || out.empty()) throw Error("give a checkpoint and an output folder: attnlab export MODEL OUT_FOLDER");
  LoadOptions lo;
  lo.tokenizer_path = tokenizer_path;
  LoadedModel m = load_checkpoint(path, lo);
  HfExportResult r = export_hf_folder(m.config, m.weights, m.tokenizer.get(), out);
  std::cout << "wrote " << out << " (Hugging Face " << r.model_type << ")\n";
  if (!r.tokenizer_written)
    std::cout << "tokenizer: " << (r.tokenizer_note.empty() ? "none in the checkpoint" : r.tokenizer_note) << "\n";
  return 0;
}

}  // namespace attnlab::cli
