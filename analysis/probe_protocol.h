#pragma once
// The parts of the standard probes that do not depend on how attention is measured: their input
// sequences, the metadata they record, and the read-outs computed from logits or from the head
// table itself. The CPU probes (probes.h) and the GPU analysis (experiments/device/) both build
// on these, so `analyze --device cuda` runs exactly the sequences `--device cpu` runs.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "analysis/head_table.h"
#include "analysis/probes.h"

namespace attnlab {

struct ModelConfig;
class Transformer;
struct Tensor;

// A probe's input sequences (all the same length) and what its table records about them.
struct ProbeInputs {
  std::vector<std::vector<int32_t>> seqs;
  std::vector<std::pair<std::string, std::string>> meta;  // set on the table after the metrics
};
void set_probe_meta(HeadTable& t, const ProbeInputs& in);

// Gu et al. sink protocol (REFERENCE 1.1): opt.n_seqs x opt.T tokens from opt.source, BOS per
// opt.bos; natural text from opt.corpus, or sampled from the model where opt.corpus is empty.
// Throws when T exceeds the context or the source is unknown.
ProbeInputs sink_probe_inputs(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt);
// Anthropic prefix matching (REFERENCE 3.1): BOS + block random tokens x repeats.
ProbeInputs induction_probe_inputs(const ModelConfig& cfg, const VocabInfo& vocab, const ProbeOptions& opt);
// RazorAttention census (REFERENCE 2.3): BOS + K random tokens x 4.
ProbeInputs census_probe_inputs(const ModelConfig& cfg, const VocabInfo& vocab, const ProbeOptions& opt);

// TransformerLens induction loss (REFERENCE 3.2): a random block repeated twice per sequence.
struct InductionLossInputs {
  std::vector<int32_t> tokens;  // [B, T] flattened
  int B = 0, T = 0, subseq = 0;
  std::string describe;
};
InductionLossInputs induction_loss_inputs(const ModelConfig& cfg, const VocabInfo& vocab, const ProbeOptions& opt);
// Sets the scalars "induction_loss" and "first_half_loss" and their metadata from the logits
// [B, T, V] of the forward over in.tokens.
void set_induction_loss(HeadTable& t, const Tensor& logits, const InductionLossInputs& in, int vocab_size,
                        const ProbeOptions& opt);

// RazorAttention's head marks from a table holding "prefix_matching" and "echo": "razor_induction"
// (top opt.census_induction_top) and "razor_echo" (top opt.census_echo_top), at least one each.
void mark_razor_heads(HeadTable& t, const ProbeOptions& opt);

}  // namespace attnlab
