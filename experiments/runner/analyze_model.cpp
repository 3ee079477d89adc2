#include "experiments/runner/analyze_model.h"

#include <algorithm>
#include <memory>
#include <sstream>

#include "analysis/ablation.h"
#include "core/attention/spec.h"
#include "core/cuda/select.h"
#include "core/tensor/error.h"
#include "core/tokenizer/tokenizer.h"
#include "experiments/device/gpu_analysis.h"
#include "experiments/device/stream_stats_table.h"

namespace attnlab::exp {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

namespace {

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

std::vector<std::string> default_columns(const std::string& probe, const HeadTable& table) {
  if (probe == "sparsity") {
    std::vector<std::string> cols;
    auto ends = [](const std::string& s, const std::string& tail) {
      return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
    };
    for (std::string m : table.metrics()) {
      if (m.rfind("sparsity.", 0) == 0) m = m.substr(9);
      if (ends(m, ".recall") || ends(m, ".density") || m == "sparse_class") cols.push_back(m);
    }
    return cols;
  }
  // cover_censored and top<k>_mass come from --device cuda only (printed where present).
  // alpha1 is the sink mass (Gu's column sum over T); alpha1_visible divides by the queries that
  // see key 0.
  if (probe == "sink")
    return {"alpha1",         "sink1_frac", "norm_entropy",   "cover_median",
            "cover_censored", "zero_frac",  "empty_row_frac", "value_norm1_ratio"};
  if (probe == "induction")
    return {"prev_token", "prefix_matching", "tl_induction", "tl_duplicate", "echo"};
  if (probe == "retrieval")
    return {"retrieval_score"};  // scalars: trials, accepted_trials, answer_recall
  if (probe == "census") return {"prefix_matching", "echo", "razor_induction", "razor_echo"};
  return {"alpha1",       "norm_entropy", "prev_token", "prefix_matching",
          "tl_induction", "cover_median", "row_mass"};
}

std::vector<std::string> requested_probes(const AnalyzeRequest& req) {
  // Before the model loads: a machine or build without CUDA fails at once, saying which.
  const bool on_gpu = cuda::resolve_device(req.device) == Device::cuda;
  if (on_gpu && !req.ablate.empty())
    throw Error(
        "--ablate hooks the CPU forward (head outputs are edited in place); it does not run with "
        "--device cuda: use --device cpu");
  std::vector<std::string> probes;
  if (req.has_prompt) return probes;
  if (req.probe == "all")
    probes = {"sink", "induction", "retrieval", "census"};
  else
    probes = split_list(req.probe);
  if (probes.empty()) throw Error("--probe names no probe");
  for (const std::string& p : probes) check_probe_name(p);
  return probes;
}

HeadTable analyze_model(OpenedModel& m, AnalyzeRequest req, std::ostream& notes) {
  std::vector<std::string> probes = requested_probes(req);
  const bool on_gpu = cuda::resolve_device(req.device) == Device::cuda;
  Transformer& model = *m.model;
  const ModelConfig& cfg = model.config();
  ProbeOptions& opt = req.opt;
  VocabInfo vocab = VocabInfo::for_model(m.tokenizer.get(), cfg);
  opt.source = req.source.empty() ? (m.tokenizer ? "natural" : "random") : req.source;
  if (!req.corpus_given) opt.corpus = training_corpus(m.notes);
  // A model trained on the needle task is probed on its own task (its vocabulary has no text).
  if (!req.retrieval_task_given && m.notes.count("task") &&
      m.notes.at("task").rfind("needle(", 0) == 0)
    opt.retrieval_task = m.notes.at("task");
  if (req.probe == "all" && !m.tokenizer && opt.retrieval_task.empty()) {
    notes << "note: the checkpoint has no tokenizer; skipping the retrieval probe\n";
    probes.erase(std::remove(probes.begin(), probes.end(), "retrieval"), probes.end());
  }

  std::vector<int32_t> prompt_ids;
  if (req.has_prompt) {
    if (!m.tokenizer)
      throw Error(req.model_label +
                  ": the checkpoint carries no tokenizer to encode --prompt (pass --tokenizer)");
    prompt_ids = m.tokenizer->encode_for_model(req.prompt);
    if (prompt_ids.empty()) throw Error("the prompt is empty");
    if (int(prompt_ids.size()) > cfg.context)
      throw Error("the prompt is " + std::to_string(prompt_ids.size()) +
                  " tokens, longer than the model's context (" + std::to_string(cfg.context) + ")");
  }

  std::unique_ptr<GpuAnalysis> gpu;
  if (on_gpu) {
    gpu = std::make_unique<GpuAnalysis>(model);
    std::string missing;
    for (const std::string& name : fused_unmeasured_metrics())
      missing += (missing.empty() ? "" : ", ") + name;
    notes << "note: --device cuda streams row and column sums only; left out (use --device cpu): "
          << missing << "\n";
    for (const std::string& p : probes)
      if (!gpu_runs_probe(p)) notes << "note: " << cpu_probe_note(p) << "\n";
  }
  auto run_all = [&]() {
    HeadTable out(cfg.n_layers, cfg.n_heads);
    if (!prompt_ids.empty()) {
      out.merge(gpu ? gpu->prompt_probe(prompt_ids, opt) : prompt_probe(model, prompt_ids, opt),
                "");
      return out;
    }
    for (const std::string& p : probes)
      out.merge(gpu ? gpu->run_probe(p, vocab, opt) : run_probe(p, model, vocab, opt),
                probes.size() > 1 ? p + "." : "");
    return out;
  };

  // Head names are checked before the baseline runs, not after it.
  const std::vector<HeadRef> heads = parse_heads(req.ablate, cfg.n_layers, cfg.n_heads);
  if (!req.ablate.empty() && heads.empty()) throw Error("--ablate names no heads");
  const AblationMode mode = parse_ablation_mode(req.ablate_mode);
  HeadTable table = run_all();
  if (!heads.empty()) {
    HeadAblation ab(heads, mode, cfg.n_layers, cfg.n_heads);
    if (req.ablate_mode == "mean") {
      const int T = std::min(64, cfg.context);
      const bool bos = resolve_bos(opt.bos, vocab);
      auto calib = !m.tokenizer ? random_sequences(vocab, 8, T, bos, opt.seed + 7)
                   : opt.corpus.empty()
                       ? model_text_sequences(model, vocab, 8, T, bos, opt.seed + 7)
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
  table.set_meta("model", req.model_label);
  table.set_meta("context", std::to_string(cfg.context) +
                                (req.context_override > 0 ? " (--context)" : " (from the file)"));
  if (table.meta("device").empty())
    table.set_meta("device", on_gpu ? "cuda" : "cpu");  // retrieval alone says cpu
  return table;
}

}  // namespace attnlab::exp
