// attnlab analyze: runs the standard attention probes (analysis/probes.h) on any checkpoint and
// prints per-head tables; --ablate re-runs them with heads knocked out, next to the baseline.
// --device cuda measures on the GPU model's fused statistics pass (experiments/device/gpu_analysis.h).
#include <iostream>
#include <optional>

#include "core/attention/spec.h"
#include "core/io/open_model.h"
#include "core/tensor/error.h"
#include "experiments/cli/cli_options.h"
#include "experiments/runner/analyze_model.h"

namespace attnlab::cli {

using exp::split_list;

namespace {

int parse_int_arg(const std::string& s, const std::string& flag) {
  const std::optional<int> v = parse_whole_number(s);
  if (v && *v > 0) return *v;
  throw Error(flag + ": '" + s + "' is not a positive whole number");
}

double parse_fraction_arg(const std::string& s, const std::string& flag) {
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    if (used == s.size() && v >= 0.0 && v <= 1.0) return v;
  } catch (const std::exception&) {
  }
  throw Error(flag + ": '" + s + "' is not a fraction in [0, 1]");
}

}  // namespace

int cmd_analyze(const Args& args) {
  po::options_description desc("analyze options");
  std::string path, probe, prompt, ablate, ablate_mode, json_path, csv_path, tokenizer_path, columns, device;
  ProbeOptions opt;
  LoadOptions lo;
  std::string source, haystacks, depths;
  desc.add_options()("model", po::value(&path), "checkpoint file or folder")(
      "probe", po::value(&probe)->default_value("sink"), "sink | induction | retrieval | census | sparsity | all (all: the first four)")(
      "prompt", po::value(&prompt), "analyse this text instead of running a probe")(
      "ablate", po::value(&ablate), "heads to ablate, e.g. L0H1,L5H3 (0-based layer and head)")(
      "ablate-mode", po::value(&ablate_mode)->default_value("zero"),
      "zero | mean (means from an un-ablated calibration run) | uniform (uniform attention over the head's visible keys, as Wu et al. mask retrieval heads)")(
      "json", po::value(&json_path), "write the full table (vectors included) as JSON")(
      "csv", po::value(&csv_path), "write the head metrics as CSV")(
      "columns", po::value(&columns), "comma-separated metrics for the printed table")(
      "tokenizer", po::value(&tokenizer_path), "tokenizer file (llama2.c models stored apart)")(
      "source", po::value(&source),
      "sink probe input: natural (default with a tokenizer) | random | repeated | all (Gu et al.'s Table 1: "
      "each source with and without BOS)")(
      "n", po::value(&opt.n_seqs)->default_value(100), "sink probe: sequences")(
      "T", po::value(&opt.T)->default_value(64), "sink probe: tokens per sequence")(
      "eps", po::value(&opt.metrics.sink_eps)->default_value(0.3), "Sink_k threshold (alpha_k > eps)")(
      "bos", po::value(&opt.bos)->default_value("model"), "BOS policy: model | prepend | none")(
      "corpus", po::value(&opt.corpus),
      "natural text (path, or under the shared folder); default: the checkpoint's training corpus where it "
      "records one, else text sampled from the model itself")(
      "context", po::value(&lo.context)->default_value(0),
      "context the probes keep within, instead of the file's (e.g. 512 for stories260K.gguf, whose metadata "
      "says 2048)")(
      "haystack", po::value(&haystacks),
      "retrieval: haystack lengths in tokens, comma-separated (default: 1/4, 1/2 and all of what fits, at most 1000)")(
      "depths", po::value(&depths), "retrieval: needle depths, comma-separated fractions (default 0.1,0.3,0.5,0.7,0.9)")(
      "question-style", po::value(&opt.question_style)->default_value(opt.question_style),
      "retrieval: ask (a question that does not repeat the needle) | copy_cue (the needle's words up to the answer)")(
      "retrieval-task", po::value(&opt.retrieval_task),
      "retrieval: a needle task spec whose sequences are the trials (default for a model trained on needle)")(
      "needle", po::value(&opt.needle)->default_value(opt.needle), "retrieval: the sentence hidden in the haystack")(
      "answer", po::value(&opt.needle_answer)->default_value(opt.needle_answer), "retrieval: the part of the needle to recall")(
      "question", po::value(&opt.question)->default_value(opt.question), "retrieval: text appended after the haystack")(
      "patterns", po::value(&opt.sparse_patterns)->default_value(opt.sparse_patterns),
      "sparsity: sparse patterns separated by ';' (topk, block_topk, vertical_slash, window, quest, channel_topk; "
      "docs/sparse.md)")(
      "budgets", po::value(&opt.sparse_budgets),
      "sparsity: budgets, comma-separated: tokens (64), fractions of the visible keys (0.25 or 25%) or key "
      "blocks (4b); each replaces every pattern's size (default: each pattern's own)")(
      "classify", po::value(&opt.sparse_classify),
      "sparsity: also each head's class (local, sink+window, vertical-slash, retrieval-like, dispersed) from "
      "the pattern families' recall at this budget (docs/sparse.md)")(
      "seed", po::value(&opt.seed)->default_value(0), "probe input seed")(
      "device", po::value(&device)->default_value("cpu"),
      "cpu | cuda: cuda measures all heads with the fused GPU statistics pass (no T x T memory); "
      "metrics it cannot stream are left out and listed in the table's meta");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_options(args, "attnlab analyze MODEL --probe sink|induction|retrieval|census|sparsity|all [--prompt TEXT] "
                           "[--ablate L5H3,...] [--device cpu|cuda] [--json F] [--csv F]",
                     desc, vm, &pos))
    return 0;
  if (path.empty()) throw Error("give a checkpoint path");
  if (vm.count("ablate") && ablate.empty()) throw Error("--ablate names no heads");
  exp::AnalyzeRequest req;
  req.probe = probe;
  req.has_prompt = vm.count("prompt") > 0;
  req.prompt = prompt;
  req.ablate = ablate;
  req.ablate_mode = ablate_mode;
  req.source = source;
  req.corpus_given = vm.count("corpus") > 0;
  req.retrieval_task_given = vm.count("retrieval-task") > 0;
  req.device = device;
  req.model_label = path;
  req.context_override = lo.context;
  for (const std::string& s : split_list(haystacks)) opt.haystack_lengths.push_back(parse_int_arg(s, "--haystack"));
  if (vm.count("depths")) {
    opt.depths.clear();
    for (const std::string& s : split_list(depths)) opt.depths.push_back(parse_fraction_arg(s, "--depths"));
  }
  req.opt = opt;
  // Bad options fail before the model loads.
  const std::vector<std::string> probes = exp::requested_probes(req);

  lo.tokenizer_path = tokenizer_path;
  OpenedModel m = open_model(path, lo);
  HeadTable table = exp::analyze_model(m, req, std::cerr);

  std::vector<std::string> cols = split_list(columns);
  if (cols.empty()) {
    if (req.has_prompt) {
      cols = exp::default_columns("prompt");
    } else {
      for (const std::string& p : probes)
        for (const std::string& c : exp::default_columns(p, table)) cols.push_back(probes.size() > 1 ? p + "." + c : c);
    }
  }
  table.print(std::cout, cols);
  if (!json_path.empty()) table.write_json(json_path);
  if (!csv_path.empty()) table.write_csv(csv_path);
  return 0;
}

}  // namespace attnlab::cli
