// Gu et al. sink protocol (REFERENCE 1.1): N sequences of T = 64 tokens, eps = 0.3, Sink_k^eps
// = fraction of (sample, layer, head) with alpha_k > eps, in %.
#include "analysis/probe_protocol.h"
#include "analysis/probes.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"

namespace attnlab {

void set_probe_meta(HeadTable& t, const ProbeInputs& in) {
  for (const auto& [k, v] : in.meta) t.set_meta(k, v);
}

ProbeInputs sink_probe_inputs(const ModelConfig& cfg, const VocabInfo& vocab, const ProbeOptions& opt) {
  if (opt.T > cfg.context)
    throw Error("sink probe: T = " + std::to_string(opt.T) + " is longer than the model's context (" +
                std::to_string(cfg.context) + "); pass a smaller T");
  const bool bos = resolve_bos(opt.bos, vocab);
  ProbeInputs in;
  if (opt.source == "natural") in.seqs = natural_sequences(vocab, opt.corpus, opt.n_seqs, opt.T, bos, opt.seed);
  else if (opt.source == "random") in.seqs = random_sequences(vocab, opt.n_seqs, opt.T, bos, opt.seed);
  else if (opt.source == "repeated") in.seqs = repeated_token_sequences(vocab, opt.n_seqs, opt.T, bos, opt.seed);
  else throw Error("sink probe: source '" + opt.source + "' is unknown; use natural, random or repeated");
  in.meta.push_back({"probe", "sink"});
  in.meta.push_back({"source", opt.source});
  if (opt.source == "natural") in.meta.push_back({"corpus", opt.corpus});
  in.meta.push_back({"bos", bos ? "prepend (first token is BOS)" : "none (first token is text)"});
  in.meta.push_back({"seed", std::to_string(opt.seed)});
  return in;
}

HeadTable sink_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt) {
  const ProbeInputs in = sink_probe_inputs(model.config(), vocab, opt);
  HeadTable t = analyze_sequences(model, in.seqs, opt.batch, opt.metrics);
  set_probe_meta(t, in);
  return t;
}

}  // namespace attnlab
