// attnlab analyze: runs the standard attention probes (analysis/probes.h) on any checkpoint and
// prints per-head tables; --ablate re-runs them with heads knocked out, next to the baseline.
// --device cuda measures on the GPU model's fused statistics pass (experiments/device/gpu_analysis.h).
#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include "analysis/ablation.h"
#include "analysis/probes.h"
#include "core/attention/spec.h"
#include "core/cuda/select.h"
#include "core/io/open_model.h"
#include "core/tensor/error.h"
#include "core/tokenizer/tokenizer.h"
#include "experiments/cli/cli_options.h"
#include "experiments/device/gpu_analysis.h"
#include "experiments/device/stream_stats_table.h"

namespace attnlab::cli {

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// The columns the text table shows per probe (all metrics go to --json / --csv).
std::vector<std::string> default_columns(const std::string& probe) {
  // cover_censored and top<k>_mass come from --device cuda only (printed where present).
  // alpha1 is the sink mass (Gu's column sum over T); alpha1_visible divides by the queries that see key 0.
  if (probe == "sink") return {"alpha1", "sink1_frac", "norm_entropy", "cover_median", "cover_censored", "zero_frac", "empty_row_frac", "value_norm1_ratio"};
  if (probe == "induction") return {"prev_token", "prefix_matching", "tl_induction", "tl_duplicate", "echo"};
  if (probe == "retrieval") return {"retrieval_score"};  // scalars: trials, accepted_trials, answer_recall
  if (probe == "census") return {"prefix_matching", "echo", "razor_induction", "razor_echo"};
  return {"alpha1", "norm_entropy", "prev_token", "prefix_matching", "tl_induction", "cover_median", "row_mass"};
}

int parse_int_arg(const std::string& s, const std::string& flag) {
  try {
    size_t used = 0;
    const int v = std::stoi(s, &used);
    if (used == s.size() && v > 0) return v;
  } catch (const std::exception&) {
  }
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

// The corpus a checkpoint was trained on, from its recorded task ("text(file=...,...)"); "" when
// it records none (natural text is then sampled from the model).
std::string training_corpus(const std::map<std::string, std::string>& notes) {
  auto task = notes.find("task");
  if (task == notes.end() || task->second.rfind("text(", 0) != 0) return "";
  try {
    for (const SpecTerm& term : parse_spec(task->second, "task spec", true))
      for (const auto& [k, v] : term.args)
        if (k == "file") return v;
  } catch (const Error&) {
  }
  return "";
}

}  // namespace

int cmd_analyze(const Args& args) {
  po::options_description desc("analyze options");
  std::string path, probe, prompt, ablate, ablate_mode, json_path, csv_path, tokenizer_path, columns, device;
  ProbeOptions opt;
  LoadOptions lo;
  std::string source, haystacks, depths;
  desc.add_options()("model", po::value(&path), "checkpoint file or folder")(
      "probe", po::value(&probe)->default_value("sink"), "sink | induction | retrieval | census | all")(
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
      "seed", po::value(&opt.seed)->default_value(0), "probe input seed")(
      "device", po::value(&device)->default_value("cpu"),
      "cpu | cuda: cuda measures all heads with the fused GPU statistics pass (no T x T memory); "
      "metrics it cannot stream are left out and listed in the table's meta");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_options(args, "attnlab analyze MODEL --probe sink|induction|retrieval|census|all [--prompt TEXT] "
                           "[--ablate L5H3,...] [--device cpu|cuda] [--json F] [--csv F]",
                     desc, vm, &pos))
    return 0;
  if (path.empty()) throw Error("give a checkpoint path");
  // Before the model loads: a machine or build without CUDA fails at once, saying which.
  const bool on_gpu = cuda::resolve_device(device) == Device::cuda;
  if (on_gpu && vm.count("ablate"))
    throw Error("--ablate hooks the CPU forward (head outputs are edited in place); it does not run with "
                "--device cuda: use --device cpu");

  std::vector<std::string> probes;
  if (!vm.count("prompt")) {
    if (probe == "all") probes = {"sink", "induction", "retrieval", "census"};
    else probes = split_list(probe);
    if (probes.empty()) throw Error("--probe names no probe");
    for (const std::string& p : probes) check_probe_name(p);
  }

  lo.tokenizer_path = tokenizer_path;
  OpenedModel m = open_model(path, lo);
  Transformer& model = *m.model;
  const ModelConfig& cfg = model.config();
  VocabInfo vocab = VocabInfo::for_model(m.tokenizer.get(), cfg);
  opt.source = source.empty() ? (m.tokenizer ? "natural" : "random") : source;
  if (!vm.count("corpus")) opt.corpus = training_corpus(m.notes);
  for (const std::string& s : split_list(haystacks)) opt.haystack_lengths.push_back(parse_int_arg(s, "--haystack"));
  if (vm.count("depths")) {
    opt.depths.clear();
    for (const std::string& s : split_list(depths)) opt.depths.push_back(parse_fraction_arg(s, "--depths"));
  }
  // A model trained on the needle task is probed on its own task (its vocabulary has no text).
  if (!vm.count("retrieval-task") && m.notes.count("task") && m.notes.at("task").rfind("needle(", 0) == 0)
    opt.retrieval_task = m.notes.at("task");
  if (probe == "all" && !m.tokenizer && opt.retrieval_task.empty()) {
    std::cerr << "note: the checkpoint has no tokenizer; skipping the retrieval probe\n";
    probes.erase(std::remove(probes.begin(), probes.end(), "retrieval"), probes.end());
  }

  std::vector<int32_t> prompt_ids;
  if (vm.count("prompt")) {
    if (!m.tokenizer) throw Error(path + ": the checkpoint carries no tokenizer to encode --prompt (pass --tokenizer)");
    prompt_ids = m.tokenizer->encode_for_model(prompt);
    if (prompt_ids.empty()) throw Error("the prompt is empty");
    if (int(prompt_ids.size()) > cfg.context)
      throw Error("the prompt is " + std::to_string(prompt_ids.size()) + " tokens, longer than the model's context (" +
                  std::to_string(cfg.context) + ")");
  }

  std::unique_ptr<GpuAnalysis> gpu;
  if (on_gpu) {
    gpu = std::make_unique<GpuAnalysis>(model);
    std::string missing;
    for (const std::string& m : fused_unmeasured_metrics()) missing += (missing.empty() ? "" : ", ") + m;
    std::cerr << "note: --device cuda streams row and column sums only; left out (use --device cpu): " << missing << "\n";
    for (const std::string& p : probes)
      if (!gpu_runs_probe(p)) std::cerr << "note: " << retrieval_on_cpu_note() << "\n";
  }
  auto run_all = [&]() {
    HeadTable out(cfg.n_layers, cfg.n_heads);
    if (!prompt_ids.empty()) {
      out.merge(gpu ? gpu->prompt_probe(prompt_ids, opt) : prompt_probe(model, prompt_ids, opt), "");
      return out;
    }
    for (const std::string& p : probes)
      out.merge(gpu ? gpu->run_probe(p, vocab, opt) : run_probe(p, model, vocab, opt), probes.size() > 1 ? p + "." : "");
    return out;
  };

  HeadTable table = run_all();
  if (vm.count("ablate")) {
    std::vector<HeadRef> heads = parse_heads(ablate, cfg.n_layers, cfg.n_heads);
    if (heads.empty()) throw Error("--ablate names no heads");
    HeadAblation ab(heads, parse_ablation_mode(ablate_mode), cfg.n_layers, cfg.n_heads);
    if (ablate_mode == "mean") {
      const int T = std::min(64, cfg.context);
      const bool bos = resolve_bos(opt.bos, vocab);
      auto calib = !m.tokenizer          ? random_sequences(vocab, 8, T, bos, opt.seed + 7)
                   : opt.corpus.empty() ? model_text_sequences(model, vocab, 8, T, bos, opt.seed + 7)
                                        : natural_sequences(vocab, opt.corpus, 8, T, bos, opt.seed + 7);
      std::vector<int32_t> flat;
      for (auto& s : calib) flat.insert(flat.end(), s.begin(), s.end());
      ab.calibrate(model, flat.data(), int(calib.size()), T);
    }
    model.add_observer(&ab);
    HeadTable ablated(cfg.n_layers, cfg.n_heads);
    try {
      ablated = run_all();
    } catch (...) {
      model.remove_observer(&ab);
      throw;
    }
    model.remove_observer(&ab);
    for (const auto& [k, v] : table.scalars()) ablated.set_scalar("baseline." + k, v);
    ablated.set_meta("ablation", ab.describe());
    table = std::move(ablated);
  }
  table.set_meta("model", path);
  table.set_meta("context", std::to_string(cfg.context) + (lo.context > 0 ? " (--context)" : " (from the file)"));
  if (table.meta("device").empty()) table.set_meta("device", on_gpu ? "cuda" : "cpu");  // retrieval alone says cpu

  std::vector<std::string> cols = split_list(columns);
  if (cols.empty()) {
    if (!prompt_ids.empty()) {
      cols = default_columns("prompt");
    } else {
      for (const std::string& p : probes)
        for (const std::string& c : default_columns(p)) cols.push_back(probes.size() > 1 ? p + "." + c : c);
    }
  }
  table.print(std::cout, cols);
  if (!json_path.empty()) table.write_json(json_path);
  if (!csv_path.empty()) table.write_csv(csv_path);
  return 0;
}

}  // namespace attnlab::cli
