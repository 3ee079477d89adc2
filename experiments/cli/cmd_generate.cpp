// attnlab generate: samples from any checkpoint; greedy at temperature 0 (the default). With
// --kv-compress the KV cache keeps, from the end of the prompt on, only what a sparse pattern
// keeps of each head (analysis/sparse/decode_hook.h), and the memory it saved is reported.
#include <cstdio>
#include <iostream>

#include "analysis/sparse/budget.h"
#include "analysis/sparse/decode_hook.h"
#include "analysis/sparse/sparse_replacement.h"

#include "core/io/open_model.h"
#include "core/tensor/error.h"
#include "experiments/cli/cli_options.h"

namespace attnlab::cli {

int cmd_generate(const Args& args) {
  po::options_description desc("generate options");
  std::string path, prompt, tokenizer_path, kv_pattern, kv_budget, kv_heads;
  SampleOptions so;
  desc.add_options()("model", po::value(&path), "checkpoint file or folder")(
      "prompt", po::value(&prompt)->default_value(""), "text to continue")(
      "tokenizer", po::value(&tokenizer_path), "tokenizer file (llama2.c models stored apart)")(
      "max-new", po::value(&so.max_new)->default_value(256), "tokens to generate at most")(
      "temperature", po::value(&so.temperature)->default_value(0.0f), "0 = greedy argmax")(
      "top-p", po::value(&so.top_p)->default_value(1.0f), "nucleus sampling mass")(
      "seed", po::value(&so.seed)->default_value(0), "sampling seed")(
      "kv-compress", po::value(&kv_pattern),
      "free, at the end of the prompt, every key this per-row sparse pattern drops, e.g. "
      "'window(size=60,sinks=4)', 'topk(k=64)', 'quest(k=64,page=16)'")(
      "kv-budget", po::value(&kv_budget),
      "the pattern's size instead of its own: tokens (64), a fraction (0.25 or 25%)")(
      "kv-heads", po::value(&kv_heads)->default_value("all"),
      "heads to compress: all, a layer (L2) or a list (L0H1,L2H3)");
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
  std::vector<int32_t> out;
  if (kv_pattern.empty()) {
    if (!kv_budget.empty()) throw Error("--kv-budget needs --kv-compress");
    out = generate(*m.model, ids, so);
  } else {
    const ModelConfig& cfg = m.model->config();
    const Budget budget = kv_budget.empty() ? Budget{} : parse_budget(kv_budget);
    const CompressedGeneration g = generate_with_compressed_kv(
        *m.model, ids, so, kv_pattern, kv_budget.empty() ? nullptr : &budget,
        parse_head_selection(kv_heads, cfg.n_layers, cfg.n_heads));
    out = g.tokens;
    std::fprintf(stderr,
                 "KV cache (%zu-token prompt + room for %d new): %.2f MB dense, %.2f MB after %s "
                 "(%.1f %%)\n",
                 ids.size(), so.max_new, double(g.kv_bytes_full) / 1e6,
                 double(g.kv_bytes_kept) / 1e6, kv_pattern.c_str(),
                 100.0 * double(g.kv_bytes_kept) / double(g.kv_bytes_full));
  }
  std::vector<int32_t> all = ids;
  all.insert(all.end(), out.begin(), out.end());
  std::cout << m.tokenizer->decode(all) << std::endl;
  return 0;
}

}  // namespace attnlab::cli
