// Induction heads (REFERENCE 3): Anthropic prefix matching on BOS + 25 random tokens x 4
// (10 samples), TransformerLens "mul" scores on the same inputs, and the TransformerLens
// induction loss on a random block repeated twice; and the RazorAttention census (REFERENCE 2.3).
#include <algorithm>
#include <cmath>

#include "analysis/probe_protocol.h"
#include "analysis/probes.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

// Mean cross-entropy of predicting token i + 1 from position i, over i in [from, to).
double mean_next_token_loss(const Tensor& logits, const std::vector<int32_t>& tokens, int B, int T,
                            int V, int from, int to) {
  double sum = 0;
  int64_t n = 0;
  for (int b = 0; b < B; ++b)
    for (int i = from; i < to && i + 1 < T; ++i) {
      const float* z = logits.ptr() + (int64_t(b) * T + i) * V;
      const float mx = *std::max_element(z, z + V);
      double se = 0;
      for (int v = 0; v < V; ++v) se += std::exp(double(z[v]) - mx);
      sum += std::log(se) + mx - z[tokens[size_t(b) * T + i + 1]];
      ++n;
    }
  return n ? sum / double(n) : 0.0;
}

}  // namespace

ProbeInputs induction_probe_inputs(const ModelConfig& cfg, const VocabInfo& vocab, const ProbeOptions& opt) {
  const bool bos = vocab.bos >= 0;  // the protocol prepends a start token where one exists
  const int block = std::min(opt.block, (cfg.context - (bos ? 1 : 0)) / std::max(1, opt.repeats));
  if (block < 2) throw Error("induction probe: the context (" + std::to_string(cfg.context) + ") is too short");
  ProbeInputs in;
  in.seqs = repeated_block_sequences(vocab, opt.samples, block, opt.repeats, bos, opt.seed);
  in.meta.push_back({"probe", "induction"});
  in.meta.push_back({"prefix_matching_input", (bos ? "BOS + " : "") + std::to_string(block) + " random tokens x " +
                                                   std::to_string(opt.repeats) + ", " + std::to_string(opt.samples) +
                                                   " samples"});
  return in;
}

InductionLossInputs induction_loss_inputs(const ModelConfig& cfg, const VocabInfo& vocab, const ProbeOptions& opt) {
  const bool bos = vocab.bos >= 0;
  // TransformerLens induction loss: ids uniform in [100, 20000) clipped to the vocabulary.
  InductionLossInputs in;
  in.subseq = std::min(opt.loss_subseq, cfg.context / 2);
  VocabInfo lv = vocab;
  if (lv.vocab_size > 200) lv.first_plain = std::max(lv.first_plain, 100);
  lv.vocab_size = std::min(lv.vocab_size, 20000);
  for (auto& s : random_sequences(lv, opt.loss_batch, in.subseq, false, opt.seed + 1)) {
    std::vector<int32_t> two = s;
    two.insert(two.end(), s.begin(), s.end());
    if (bos) two[0] = vocab.bos;  // "position 0 is set to BOS"
    in.tokens.insert(in.tokens.end(), two.begin(), two.end());
  }
  in.B = opt.loss_batch;
  in.T = 2 * in.subseq;
  in.describe = std::to_string(opt.loss_batch) + " x random block of " + std::to_string(in.subseq) + " ids in [" +
                std::to_string(lv.first_plain) + ", " + std::to_string(lv.vocab_size) + ") repeated twice";
  return in;
}

void set_induction_loss(HeadTable& t, const Tensor& logits, const InductionLossInputs& in, int vocab_size,
                        const ProbeOptions& opt) {
  // TL: loss_per_token[i] predicts token i + 1; the reported mean is over i >= subseq_len + 1.
  t.set_scalar("induction_loss", mean_next_token_loss(logits, in.tokens, in.B, in.T, vocab_size, in.subseq + 1, in.T - 1));
  t.set_scalar("first_half_loss", mean_next_token_loss(logits, in.tokens, in.B, in.T, vocab_size, 0, in.subseq - 1));
  t.set_meta("induction_loss_input", in.describe);
  t.set_meta("seed", std::to_string(opt.seed));
}

HeadTable induction_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt) {
  const ModelConfig& cfg = model.config();
  const ProbeInputs in = induction_probe_inputs(cfg, vocab, opt);
  HeadTable t = analyze_sequences(model, in.seqs, opt.batch, opt.metrics);
  set_probe_meta(t, in);
  const InductionLossInputs loss = induction_loss_inputs(cfg, vocab, opt);
  const Tensor& logits = model.forward(loss.tokens.data(), loss.B, loss.T);
  set_induction_loss(t, logits, loss, cfg.vocab_size, opt);
  return t;
}

ProbeInputs census_probe_inputs(const ModelConfig& cfg, const VocabInfo& vocab, const ProbeOptions& opt) {
  const bool bos = vocab.bos >= 0;
  const int plain = vocab.vocab_size - vocab.first_plain;
  const int block = std::min({opt.census_block, (cfg.context - (bos ? 1 : 0)) / 4, plain});
  if (block < 2) throw Error("census probe: the context (" + std::to_string(cfg.context) + ") is too short");
  ProbeInputs in;
  in.seqs = repeated_block_sequences(vocab, std::max(1, opt.samples / 10), block, 4, bos, opt.seed);
  in.meta.push_back({"probe", "census"});
  in.meta.push_back({"input", (bos ? "BOS + " : "") + std::to_string(block) + " random tokens x 4"});
  return in;
}

void mark_razor_heads(HeadTable& t, const ProbeOptions& opt) {
  // RazorAttention keeps the top 14% induction heads and the top 1% echo heads (at least one).
  // A head is flagged only where its score also clears its chance level (uniform attention on the
  // same tokens): the top of a model with no induction head is no induction head.
  const int L = t.n_layers(), H = t.n_heads(), n = L * H;
  auto mark = [&](const std::string& score, const std::string& flag, double frac) {
    std::vector<std::pair<double, int>> order;
    for (int i = 0; i < n; ++i) {
      const double v = t.get(score, i / H, i % H);
      order.push_back({std::isnan(v) ? -HUGE_VAL : v, i});
    }
    std::sort(order.begin(), order.end(), [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    const int keep = std::max(1, int(std::ceil(frac * n)));
    int flagged = 0;
    for (int r = 0; r < n; ++r) {
      const int l = order[size_t(r)].second / H, h = order[size_t(r)].second % H;
      const double chance = t.has_chance(score) ? t.chance(score, l, h) : -HUGE_VAL;
      const bool on = r < keep && order[size_t(r)].first > (std::isnan(chance) ? -HUGE_VAL : chance);
      t.set(flag, l, h, on ? 1.0 : 0.0);
      flagged += on;
    }
    t.set_scalar(flag + "_heads", flagged);
  };
  mark("prefix_matching", "razor_induction", opt.census_induction_top);
  mark("echo", "razor_echo", opt.census_echo_top);
}

HeadTable census_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt) {
  const ProbeInputs in = census_probe_inputs(model.config(), vocab, opt);
  HeadTable t = analyze_sequences(model, in.seqs, opt.batch, opt.metrics);
  set_probe_meta(t, in);
  mark_razor_heads(t, opt);
  return t;
}

}  // namespace attnlab
