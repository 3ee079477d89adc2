#pragma once
// The standard protocols, one call each (shared/REFERENCE.md). Each runs the model on its own
// inputs with an AttentionAnalyzer attached and returns a HeadTable whose meta records the
// protocol (probe, source, BOS policy, T, N, seed). Observers already attached to the model
// stay active, so a HeadAblation attached beforehand turns any probe into an intervention.
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/head_stats.h"
#include "analysis/head_table.h"
#include "analysis/probe_inputs.h"

namespace attnlab {

class Transformer;

struct ProbeOptions {
  // Gu et al. sink protocol (REFERENCE 1.1): N sequences of T tokens, Sink_k^eps.
  int n_seqs = 100;
  int T = 64;
  std::string source = "natural";  // natural | random | repeated | all (Gu's Table 1 columns)
  // BOS policy (REFERENCE 8.1): "model" follows the tokenizer (Llama-style models prepend),
  // "prepend" or "none" force it. Recorded in the table's meta.
  std::string bos = "model";
  // Natural text: a corpus path (resolved under the shared folder), or "" for text sampled from
  // the model itself. `attnlab analyze` defaults to the checkpoint's training corpus, else "".
  std::string corpus = "corpora/tinyshakespeare/input.txt";
  // Anthropic prefix matching (REFERENCE 3.1): BOS + `block` random tokens x `repeats`,
  // `samples` sequences; TransformerLens induction loss (REFERENCE 3.2): `loss_batch`
  // sequences of a random block of `loss_subseq` tokens repeated twice, ids in [100, 20000)
  // where the vocabulary allows (else the plain range), both shrunk to fit the context.
  int block = 25, repeats = 4, samples = 10;
  int loss_batch = 4, loss_subseq = 384;
  // RazorAttention census (REFERENCE 2.3): `census_block` random tokens x 4, top fractions.
  int census_block = 2500;
  double census_induction_top = 0.14, census_echo_top = 0.01;
  // Retrieval (Wu et al. 2024, REFERENCE 2.1): see retrieval_probe. A grid of haystack lengths
  // (empty: a quarter, half and all of what fits beside the needle, question and answer, at most
  // 1000 tokens) x depths, each trial's haystack drawn from a random line start of the corpus.
  std::vector<double> depths = {0.1, 0.3, 0.5, 0.7, 0.9};
  std::vector<int> haystack_lengths;
  int max_new = 0;  // decoding budget; 0: the answer's length + 8 (Wu et al. decode up to 50)
  double retrieval_threshold = 0.1;
  // The needle's answer span is long (Wu et al.'s needles are a sentence; short spans make one
  // copied token a high score), and the default question asks for it without repeating it.
  std::string needle = " Mia hid the little red key under the big blue pot by the old green door.";
  std::string needle_answer = "under the big blue pot by the old green door";
  std::string question = " Where did Mia hide the little red key? She hid it";
  // "ask" (the question above) or "copy_cue": the needle's own words up to the answer, which an
  // induction head can complete by copying (the earlier default; a named variant, not retrieval).
  std::string question_style = "ask";
  // Non-empty: a needle task spec ("needle(len=64,...)"): trials are that task's sequences, the
  // answer its value tokens (for models trained on it; text needles need a tokenizer).
  std::string retrieval_task;
  int retrieval_trials = 32;  // task mode: sequences
  // Sparsity probe (analysis/sparse/): patterns separated by ';' and budgets by ',' (empty: each
  // pattern at its own size), measured on the sink probe's inputs.
  std::string sparse_patterns = "topk(k=64);vertical_slash(v=32,s=32);window(size=60,sinks=4)";
  std::string sparse_budgets;
  // Non-empty (a budget): also the per-head class at that budget (analysis/sparse/pattern_assignment.h).
  std::string sparse_classify;
  int batch = 16;  // sequences per forward
  uint64_t seed = 0;
  MetricOptions metrics;
};

HeadTable sink_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt);
// Prefix matching + TL induction/duplicate scores on the repeated blocks, plus the scalar
// "induction_loss" (and "first_half_loss" for contrast).
HeadTable induction_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt);
// Echo and induction (prefix-matching) attention per head on BOS + K random tokens x 4, with
// K = min(census_block, what fits); "razor_induction"/"razor_echo" mark the top 14% / 1% heads.
HeadTable census_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt);
// Wu et al. retrieval score (their retrieval_head_detection.py): a needle inserted into corpus
// text over a grid of haystack lengths and depths (or the sequences of a needle task), the
// question appended, greedy decoding; at every step a head scores 1/|answer span| when its top-1
// attended position lies in the answer span and holds the generated token. Trials whose response
// recalls <= 50% of the answer (ROUGE-1 recall of words; of tokens in task mode) are dropped; head
// score = mean over accepted trials, NaN (undefined, not 0) when none was accepted. Scalars:
// "trials", "accepted_trials", "answer_recall" (mean over trials), "retrieval_heads" (score >
// threshold); meta "retrieval_head_list" names them and "grid" gives accepted/trials per length.
HeadTable retrieval_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt);
// ROUGE-1 recall of the reference's words (lowercased alphanumeric runs) in the response,
// with clipped counts: Wu et al.'s trial filter.
double rouge1_recall(const std::string& reference, const std::string& response);

// Sparse-attention recall (analysis/sparse/recall_analyzer.h) of opt.sparse_patterns at
// opt.sparse_budgets on the sink probe's inputs; channel_topk calibrated on other sequences.
HeadTable sparsity_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt);

// Every metric on one given token sequence (`attnlab analyze --prompt`).
HeadTable prompt_probe(Transformer& model, const std::vector<int32_t>& tokens, const ProbeOptions& opt);

// "sink", "induction", "retrieval", "census", "sparsity".
const std::vector<std::string>& probe_names();
// Throws attnlab::Error listing the known probes unless `name` is one of them.
void check_probe_name(const std::string& name);
// Dispatches by name; an unknown name is an attnlab::Error listing the known ones.
HeadTable run_probe(const std::string& name, Transformer& model, const VocabInfo& vocab,
                    const ProbeOptions& opt);

// Streams `seqs` (all the same length) through the model in batches of `batch` with a fresh
// analyzer and returns its table (the building block of the probes above).
HeadTable analyze_sequences(Transformer& model, const std::vector<std::vector<int32_t>>& seqs,
                            int batch, const MetricOptions& metrics);

}  // namespace attnlab
