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

ProbeInputs sink_probe_inputs(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt) {
  const ModelConfig& cfg = model.config();
  if (opt.T > cfg.context)
    throw Error("sink probe: T = " + std::to_string(opt.T) + " is longer than the model's context (" +
                std::to_string(cfg.context) + "); pass a smaller T");
  const bool bos = resolve_bos(opt.bos, vocab);
  ProbeInputs in;
  std::string origin;
  if (opt.source == "natural" && opt.corpus.empty()) {
    in.seqs = model_text_sequences(model, vocab, opt.n_seqs, opt.T, bos, opt.seed);
    origin = "text sampled from the model itself (temperature 1; no training corpus known)";
  } else if (opt.source == "natural") {
    in.seqs = natural_sequences(vocab, opt.corpus, opt.n_seqs, opt.T, bos, opt.seed);
    origin = opt.corpus;
  } else if (opt.source == "random") {
    in.seqs = random_sequences(vocab, opt.n_seqs, opt.T, bos, opt.seed);
  } else if (opt.source == "repeated") {
    in.seqs = repeated_token_sequences(vocab, opt.n_seqs, opt.T, bos, opt.seed);
  } else {
    throw Error("sink probe: source '" + opt.source + "' is unknown; use natural, random, repeated (or all)");
  }
  in.meta.push_back({"probe", "sink"});
  in.meta.push_back({"source", opt.source});
  if (!origin.empty()) in.meta.push_back({"corpus", origin});
  in.meta.push_back({"bos", bos ? "prepend (first token is BOS)" : "none (first token is text)"});
  in.meta.push_back({"T", std::to_string(opt.T)});
  in.meta.push_back({"n", std::to_string(opt.n_seqs)});
  in.meta.push_back({"seed", std::to_string(opt.seed)});
  return in;
}

namespace {

HeadTable sink_probe_one(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt) {
  const ProbeInputs in = sink_probe_inputs(model, vocab, opt);
  HeadTable t = analyze_sequences(model, in.seqs, opt.batch, opt.metrics);
  set_probe_meta(t, in);
  return t;
}

}  // namespace

HeadTable sink_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt) {
  if (opt.source != "all") return sink_probe_one(model, vocab, opt);
  // Gu et al.'s Table 1: natural, random and repeated-token inputs, each with and without BOS
  // where the model has one. The head table is the natural one under the model's BOS policy; every
  // column's Sink_1 (with interval and chance) is a scalar "sink_k1_pct.<source>.<bos|no_bos>".
  // The natural column under the model's own policy is the head table; no input runs twice.
  const std::string model_bos = resolve_bos(opt.bos, vocab) ? "prepend" : "none";
  std::vector<std::string> policies = {"none"};
  if (vocab.bos >= 0) policies.insert(policies.begin(), "prepend");
  ProbeOptions o = opt;
  HeadTable t;
  std::vector<std::pair<std::string, double>> columns;
  for (const std::string source : {"natural", "random", "repeated"})
    for (const std::string& bos : policies) {
      o.source = source;
      o.bos = bos;
      HeadTable c = sink_probe_one(model, vocab, o);
      const std::string col = "." + std::string(source) + (bos == "prepend" ? ".bos" : ".no_bos");
      for (const std::string s : {"sink_k1_pct", "sink_k1_pct_ci95", "sink_k1_pct_chance"})
        columns.emplace_back(s + col, c.scalar(s));
      if (std::string(source) == "natural" && bos == model_bos) t = std::move(c);
    }
  for (const auto& [name, value] : columns) t.set_scalar(name, value);
  t.set_meta("source", "all (head table: natural; scalars sink_k1_pct.<source>.<bos|no_bos>: Gu et al. Table 1)");
  return t;
}

}  // namespace attnlab
