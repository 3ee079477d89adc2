// `--probe sparsity`: the recall engine (recall_analyzer.h) over the sink probe's inputs
// (opt.source, opt.n_seqs x opt.T), every pattern of opt.sparse_patterns at every budget of
// opt.sparse_budgets. channel_topk is calibrated on other sequences of the same source (the
// input seed + 1000), so its recall tests whether Double Sparsity's channel ranking transfers;
// as in DoubleSparse's config/offline_calibration.py they are cut into 512-token blocks (as many
// tokens as the analysed sequences hold, rounded up to whole blocks), which also keeps the
// calibration forward cheap.
#include <algorithm>

#include "analysis/probe_protocol.h"
#include "analysis/probes.h"
#include "analysis/sparse/pattern_assignment.h"
#include "analysis/sparse/recall_analyzer.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

// Runs `obs` over `seqs` in batches of `batch`.
void forward_all(Transformer& model, ForwardObserver& obs,
                 const std::vector<std::vector<int32_t>>& seqs, int batch) {
  const int T = int(seqs.at(0).size());
  model.add_observer(&obs);
  try {
    std::vector<int32_t> buf;
    for (size_t i = 0; i < seqs.size(); i += size_t(std::max(1, batch))) {
      const int B = int(std::min(seqs.size() - i, size_t(std::max(1, batch))));
      buf.clear();
      for (int b = 0; b < B; ++b)
        buf.insert(buf.end(), seqs[i + size_t(b)].begin(), seqs[i + size_t(b)].end());
      model.forward_without_logits(buf.data(), B, T);
    }
  } catch (...) {
    model.remove_observer(&obs);
    throw;
  }
  model.remove_observer(&obs);
}

// DoubleSparse's offline calibration runs 512-token blocks.
constexpr int kCalibrationBlock = 512;

}  // namespace

HeadTable sparsity_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt) {
  const ModelConfig& cfg = model.config();
  SparsityAnalyzer an(cfg.n_layers, cfg.n_heads, parse_pattern_list(opt.sparse_patterns),
                      parse_budgets(opt.sparse_budgets));
  ChannelCalibration cal(cfg.n_layers, cfg.n_heads);
  ProbeOptions calib_opt = opt;
  calib_opt.seed = opt.seed + 1000;
  calib_opt.T = std::min(opt.T, kCalibrationBlock);
  calib_opt.n_seqs = opt.n_seqs * ((opt.T + calib_opt.T - 1) / calib_opt.T);
  if (an.needs_calibration()) {
    forward_all(model, cal, sink_probe_inputs(model, vocab, calib_opt).seqs, opt.batch);
    an.set_calibration(&cal);
  }
  const ProbeInputs in = sink_probe_inputs(model, vocab, opt);
  forward_all(model, an, in.seqs, opt.batch);
  HeadTable t = an.table();
  if (!opt.sparse_classify.empty()) {
    const Budget b = parse_budget(opt.sparse_classify);
    SparsityAnalyzer families(cfg.n_layers, cfg.n_heads, assignment_patterns(), {b});
    forward_all(model, families, in.seqs, opt.batch);
    HeadTable c = families.table();
    assign_sparse_classes(c, opt.sparse_classify);
    for (const std::string m : {"sparse_class", "sparse_best_recall"})
      for (int l = 0; l < cfg.n_layers; ++l)
        for (int h = 0; h < cfg.n_heads; ++h) t.set(m, l, h, c.get(m, l, h));
    t.set_meta("sparse_class_names", c.meta("sparse_class_names"));
    t.set_meta("sparse_class_budget", c.meta("sparse_class_budget"));
  }
  set_probe_meta(t, in);
  t.set_meta("probe", "sparsity");
  t.set_meta("budgets",
             opt.sparse_budgets.empty() ? "each pattern's own size" : opt.sparse_budgets);
  if (an.needs_calibration())
    t.set_meta("channel_calibration",
               "other sequences of the same source (seed " + std::to_string(calib_opt.seed) + "), " +
                   std::to_string(calib_opt.n_seqs) + " of " + std::to_string(calib_opt.T) +
                   " tokens");
  return t;
}

}  // namespace attnlab
