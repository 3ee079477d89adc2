// Gu et al. sink protocol (REFERENCE 1.1): N sequences of T = 64 tokens, eps = 0.3, Sink_k^eps
// = fraction of (sample, layer, head) with alpha_k > eps, in %.
#include "analysis/probes.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"

namespace attnlab {

HeadTable sink_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt) {
  if (opt.T > model.config().context)
    throw Error("sink probe: T = " + std::to_string(opt.T) + " is longer than the model's context (" +
                std::to_string(model.config().context) + "); pass a smaller T");
  const bool bos = resolve_bos(opt.bos, vocab);
  std::vector<std::vector<int32_t>> seqs;
  if (opt.source == "natural") seqs = natural_sequences(vocab, opt.corpus, opt.n_seqs, opt.T, bos, opt.seed);
  else if (opt.source == "random") seqs = random_sequences(vocab, opt.n_seqs, opt.T, bos, opt.seed);
  else if (opt.source == "repeated") seqs = repeated_token_sequences(vocab, opt.n_seqs, opt.T, bos, opt.seed);
  else throw Error("sink probe: source '" + opt.source + "' is unknown; use natural, random or repeated");
  HeadTable t = analyze_sequences(model, seqs, opt.batch, opt.metrics);
  t.set_meta("probe", "sink");
  t.set_meta("source", opt.source);
  if (opt.source == "natural") t.set_meta("corpus", opt.corpus);
  t.set_meta("bos", bos ? "prepend (first token is BOS)" : "none (first token is text)");
  t.set_meta("seed", std::to_string(opt.seed));
  return t;
}

}  // namespace attnlab
