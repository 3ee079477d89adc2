#pragma once
// What sparse replacement costs on a task (issue 16 item 2; `attnlab eval --replace`): per
// sequence, the dense and the sparse model's cross-entropy, KL(p_dense || p_sparse) of the
// next-token distributions and argmax accuracy over the task's scored positions (needle answers,
// MQAR queries, ...); paired differences with 95 % t-intervals over sequences
// (analysis/sequence_mean.h), the task's own headline metric both ways, and the achieved density.
#include <string>

#include "analysis/head_table.h"
#include "analysis/sparse/sparse_replacement.h"

namespace attnlab {

class Task;
class Transformer;

struct SparseEvalOptions {
  std::string pattern = "topk(k=64)";
  std::string budget;            // "" : the pattern's own size
  std::string phase = "decode";  // prefill | decode | kv
  std::string heads = "all";     // all | L<l> | L0H1,... (parse_head_selection)
  int prefill = 0;               // T_p; 0: the first scored position of the first batch
  // With prefill = 0: T_p = the first scored position + 1, the prompt a generator prefills (its
  // last row predicts the first answer token, so that row is prefill, as in the Sparse Frontier;
  // without it every answer token is decoded).
  bool prompt_prefill = false;
  int batches = 4;               // batches of the task, from batch index 0
};

struct SparseEvalResult {
  double dce = 0, dce_ci95 = 0;  // CE_sparse - CE_dense
  double kl = 0, kl_ci95 = 0;    // mean over scored positions of KL(p_dense || p_sparse)
  double acc_dense = 0, acc_sparse = 0, dacc = 0, dacc_ci95 = 0;
  double task_dense = 0, task_sparse = 0;  // the task's headline metric (first of score_rows)
  std::string task_metric;
  double density = 1;  // sum |S_t| / sum n_t over the sparse rows
  int prefill = 0, sequences = 0;
  std::string label;  // the pattern's label
  // Scalars "sparse.<name>" and meta (pattern, phase, heads, prefill) on `t`.
  void write(HeadTable& t, const std::string& prefix = "sparse.") const;
};

// "N" (tokens), "0" or "prompt" into opt.prefill / opt.prompt_prefill; throws for anything else.
void parse_prefill(const std::string& s, SparseEvalOptions& opt);

// Runs `task` batches dense and sparse on `model`. channel_topk is calibrated on the task's
// batch `batches` (one the evaluation does not use). Throws for bad options.
SparseEvalResult sparse_eval(Transformer& model, Task& task, const SparseEvalOptions& opt);

// As a table (`attnlab eval`, the sweep probe): heads = "each" replaces one head at a time and
// gives the head metrics sparse_dce (with its interval), sparse_kl, sparse_dacc, sparse_density
// (a sensitivity map); any other selection gives the scalars of SparseEvalResult::write.
HeadTable sparse_eval_table(Transformer& model, Task& task, const SparseEvalOptions& opt);

}  // namespace attnlab
