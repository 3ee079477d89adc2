#include <algorithm>

#include "analysis/analyzer.h"
#include "analysis/probes.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

// Detaches the observer however the forward ends.
struct ObserverScope {
  Transformer& m;
  ForwardObserver* o;
  ObserverScope(Transformer& model, ForwardObserver* obs) : m(model), o(obs) { m.add_observer(o); }
  ~ObserverScope() { m.remove_observer(o); }
};

}  // namespace

HeadTable analyze_sequences(Transformer& model, const std::vector<std::vector<int32_t>>& seqs,
                            int batch, const MetricOptions& metrics) {
  if (seqs.empty()) throw Error("no sequences to analyse");
  const int T = int(seqs[0].size());
  const ModelConfig& cfg = model.config();
  if (T > cfg.context)
    throw Error("probe sequences of " + std::to_string(T) + " tokens are longer than the model's context (" +
                std::to_string(cfg.context) + ")");
  AttentionAnalyzer an(cfg.n_layers, cfg.n_heads, metrics);
  ObserverScope scope(model, &an);
  std::vector<int32_t> buf;
  const int bs = std::max(1, batch);
  for (size_t i = 0; i < seqs.size(); i += size_t(bs)) {
    const int B = int(std::min(seqs.size() - i, size_t(bs)));
    buf.clear();
    for (int b = 0; b < B; ++b) {
      if (int(seqs[i + size_t(b)].size()) != T) throw Error("probe sequences differ in length");
      buf.insert(buf.end(), seqs[i + size_t(b)].begin(), seqs[i + size_t(b)].end());
    }
    an.set_tokens(buf.data(), B, T);
    model.forward_without_logits(buf.data(), B, T);
  }
  HeadTable t = an.table();
  t.set_meta("T", std::to_string(T));
  t.set_meta("sequences", std::to_string(seqs.size()));
  return t;
}

HeadTable prompt_probe(Transformer& model, const std::vector<int32_t>& tokens, const ProbeOptions& opt) {
  if (tokens.empty()) throw Error("the prompt is empty");
  HeadTable t = analyze_sequences(model, {tokens}, 1, opt.metrics);
  t.set_meta("probe", "prompt");
  return t;
}

const std::vector<std::string>& probe_names() {
  static const std::vector<std::string> names = {"sink", "induction", "retrieval", "census", "sparsity"};
  return names;
}

void check_probe_name(const std::string& name) {
  for (const std::string& n : probe_names())
    if (n == name) return;
  std::string known;
  for (const std::string& n : probe_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown probe '" + name + "'; probes are: " + known + " (or all)");
}

HeadTable run_probe(const std::string& name, Transformer& model, const VocabInfo& vocab,
                    const ProbeOptions& opt) {
  check_probe_name(name);
  if (name == "sink") return sink_probe(model, vocab, opt);
  if (name == "induction") return induction_probe(model, vocab, opt);
  if (name == "retrieval") return retrieval_probe(model, vocab, opt);
  if (name == "sparsity") return sparsity_probe(model, vocab, opt);
  return census_probe(model, vocab, opt);
}

}  // namespace attnlab
