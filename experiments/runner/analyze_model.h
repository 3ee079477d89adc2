#pragma once
// What `attnlab analyze` does once its options are parsed: the probes (or one prompt) on an
// opened model, optionally re-run with heads ablated, as one HeadTable. The CLI and the Python
// module both call this, so the numbers they report are the same by construction.
#include <ostream>
#include <string>
#include <vector>

#include "analysis/head_table.h"
#include "analysis/probes.h"
#include "core/io/open_model.h"

namespace attnlab::exp {

struct AnalyzeRequest {
  std::string probe = "sink";  // sink | induction | retrieval | census | sparsity | all, or a comma list
  bool has_prompt = false;     // analyse `prompt` (text, encoded as the model's tokenizer does)
  std::string prompt;
  std::string ablate;                 // "L0H1,L5H3"; empty: no ablation
  std::string ablate_mode = "zero";   // zero | mean | uniform
  std::string source;                 // "": natural with a tokenizer, else random
  bool corpus_given = false;          // false: the checkpoint's training corpus replaces opt.corpus
  bool retrieval_task_given = false;  // false: a needle-trained model is probed on its task
  std::string device = "cpu";         // cpu | cuda
  std::string model_label;            // the table's meta "model"
  int context_override = 0;           // the LoadOptions::context the model was opened with
  ProbeOptions opt;                   // haystack_lengths, depths, n, T, seed, ... as given
};

// The probe names the request runs, checked, and the checks that need no model (device, probe
// names, ablation on the GPU): the CLI calls it before loading so bad options fail at once.
// "a,b,,c" -> {"a", "b", "c"}: the comma lists of analyze's flags (probes, columns, lengths).
std::vector<std::string> split_list(const std::string& s);

std::vector<std::string> requested_probes(const AnalyzeRequest& req);

// Runs the request. Notes a person should see (probes skipped, GPU limits) go to `notes`.
// Throws attnlab::Error for bad requests.
HeadTable analyze_model(OpenedModel& m, AnalyzeRequest req, std::ostream& notes);

// The columns the text table shows per probe ("prompt" for --prompt). Sparsity's depend on the
// patterns measured: each one's recall and density, read from `table` (its names carry no prefix
// when it is the only probe).
std::vector<std::string> default_columns(const std::string& probe, const HeadTable& table = {});

}  // namespace attnlab::exp
