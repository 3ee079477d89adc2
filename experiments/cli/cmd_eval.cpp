// attnlab eval: runs chosen heads of a checkpoint with a sparse attention pattern on a task and
// reports what it costs against the dense model (analysis/sparse/sparse_eval.h).
#include <iostream>

#include "analysis/sparse/sparse_eval.h"
#include "core/io/open_model.h"
#include "core/tensor/error.h"
#include "datasets/task_registry.h"
#include "experiments/cli/cli_options.h"

namespace attnlab::cli {

int cmd_eval(const Args& args) {
  po::options_description desc("eval options");
  std::string path, task_spec, json_path, csv_path, prefill;
  SparseEvalOptions opt;
  desc.add_options()("model", po::value(&path), "checkpoint file or folder")(
      "replace", po::value(&opt.pattern)->default_value(opt.pattern),
      ("sparse pattern: " + pattern_help() + " (docs/sparse.md)").c_str())(
      "budget", po::value(&opt.budget),
      "replaces the pattern's size: tokens (64), a fraction of the visible keys "
      "(0.25, 25%) or key blocks (4b)")(
      "phase", po::value(&opt.phase)->default_value(opt.phase),
      "prefill (rows before the prefill length sparse) | decode (rows after it) | kv (keys dropped "
      "at the end "
      "of prefill stay dropped)")(
      "heads", po::value(&opt.heads)->default_value(opt.heads),
      "all | a layer (L2) | heads (L0H1,L2H3) | each (one head at a time: a per-head table)")(
      "prefill", po::value(&prefill)->default_value("0"),
      "prefill length T_p: N tokens | 0 (the task's first scored position, so every answer token "
      "is decoded) | prompt (that position + 1: the prompt a generator prefills, whose last row "
      "predicts the first answer token)")(
      "task", po::value(&task_spec), "task spec (default: the task the checkpoint was trained on)")(
      "batches", po::value(&opt.batches)->default_value(opt.batches), "task batches to evaluate")(
      "json", po::value(&json_path), "write the result table as JSON")(
      "csv", po::value(&csv_path), "write the per-head metrics (--heads each) as CSV");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_options(args,
                     "attnlab eval MODEL --replace PATTERN [--budget B] --phase prefill|decode|kv "
                     "[--heads all|L2|L0H1,...|each] [--task SPEC]",
                     desc, vm, &pos))
    return 0;
  if (path.empty()) throw Error("give a checkpoint path");
  parse_sparse_phase(opt.phase);  // bad options fail before the model loads
  parse_prefill(prefill, opt);
  make_selector(opt.pattern);
  parse_budgets(opt.budget);
  OpenedModel m = open_model(path, {});
  if (task_spec.empty()) {
    auto it = m.notes.find("task");
    if (it == m.notes.end())
      throw Error(path + ": the checkpoint records no task; pass --task (e.g. needle(len=256))");
    task_spec = it->second;
  }
  std::unique_ptr<Task> task = make_task(task_spec);
  if (std::unique_ptr<Task> fixed = fixed_length_task(*task)) task = std::move(fixed);
  HeadTable t = sparse_eval_table(*m.model, *task, opt);
  t.set_meta("model", path);
  if (opt.heads == "each") {
    t.print(std::cout, {"sparse_dce", "sparse_kl", "sparse_dacc", "sparse_density"});
  } else {
    for (const auto& [k, v] : t.metas()) std::cout << k << ": " << v << "\n";
    for (const auto& [k, v] : t.scalars()) std::cout << k << " " << v << "\n";
  }
  if (!json_path.empty()) t.write_json(json_path);
  if (!csv_path.empty()) t.write_csv(csv_path);
  return 0;
}

}  // namespace attnlab::cli
