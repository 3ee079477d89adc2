#include "analysis/sparse/recall_analyzer.h"

#include <algorithm>
#include <cmath>
#include <exception>

#include <omp.h>

#include "analysis/sparse/selection_stream.h"
#include "core/tensor/error.h"

namespace attnlab {

int position_bucket(int t) {
  int b = 0;
  for (int64_t edge = 256; t >= edge; edge *= 4) ++b;
  return b;
}

std::string position_bucket_name(int bucket) {
  const int64_t lo = bucket == 0 ? 0 : int64_t(256) << (2 * (bucket - 1));
  return std::to_string(lo) + "-" + std::to_string(int64_t(256) << (2 * bucket));
}

SparsityAnalyzer::SparsityAnalyzer(int n_layers, int n_heads, const std::vector<std::string>& specs,
                                   const std::vector<Budget>& budgets)
    : L_(n_layers), H_(n_heads), specs_(specs), budgets_(budgets) {
  if (n_layers < 1 || n_heads < 1)
    throw Error("SparsityAnalyzer: needs at least one layer and head");
  if (specs.empty())
    throw Error("SparsityAnalyzer: no sparse pattern given; patterns are: " + pattern_help());
  selectors_.push_back(make_selectors());
  for (const auto& s : selectors_[0]) {
    if (std::find(labels_.begin(), labels_.end(), s->label()) != labels_.end())
      throw Error("sparse pattern " + s->label() + " is listed twice");
    labels_.push_back(s->label());
  }
  agg_.resize(size_t(L_) * H_ * labels_.size());
}

SparsityAnalyzer::SelectorSet SparsityAnalyzer::make_selectors() const {
  SelectorSet set;
  for (const std::string& s : specs_) {
    if (budgets_.empty()) set.push_back(make_selector(s));
    SparseSelector* first = nullptr;
    for (const Budget& b : budgets_) {
      set.push_back(make_selector(s, &b));
      if (first)
        set.back()->share_work(*first);  // selected right after `first` on every row
      else
        first = set.back().get();
    }
  }
  return set;
}

bool SparsityAnalyzer::needs_calibration() const {
  for (const auto& s : selectors_[0])
    if (s->needs_channels()) return true;
  return false;
}

void SparsityAnalyzer::Agg::add(const RowRecall& r) {
  recall.add(r.recall);
  oracle += r.oracle;
  efficiency += r.efficiency;
  set_recall += r.set_recall;
  out_error += r.out_error;
  selected += r.n_selected;
  visible += r.n_visible;
  ++rows;
  fails += r.recall < 0.9;
  recalls.push_back(float(r.recall));
  const size_t b = size_t(position_bucket(r.t));
  if (b_rows.size() <= b) {
    b_recall.resize(b + 1, 0.0);
    b_selected.resize(b + 1, 0.0);
    b_visible.resize(b + 1, 0.0);
    b_rows.resize(b + 1, 0);
    b_fails.resize(b + 1, 0);
  }
  b_recall[b] += r.recall;
  b_selected[b] += r.n_selected;
  b_visible[b] += r.n_visible;
  ++b_rows[b];
  b_fails[b] += r.recall < 0.9;
}

void SparsityAnalyzer::on_attention(const LayerAttentionView& view) {
  const AttnInputs& in = *view.inputs;
  const AttnShape& s = in.shape;
  if (view.layer < 0 || view.layer >= L_ || s.H != H_)
    throw Error("SparsityAnalyzer: built for " + std::to_string(L_) + " layers x " +
                std::to_string(H_) + " heads, got layer " + std::to_string(view.layer) + " with " +
                std::to_string(s.H) + " heads");
  if (needs_calibration() && !calibration_)
    throw Error("channel_topk needs a channel calibration (set_calibration) from other inputs");
  KeyMask mask = KeyMask::from_spec(view.attention->spec());
  mask.prepare(s.T);
  // Heads are independent and each one's aggregates are its own, so they are measured in
  // parallel; a row sink sees rows in order, so it keeps one thread.
  const int threads = sink_ ? 1 : std::max(1, omp_get_max_threads());
  while (int(selectors_.size()) < threads) selectors_.push_back(make_selectors());
  std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (int h = 0; h < H_; ++h) {
    try {
      std::vector<SparseSelector*> sels;
      for (auto& p : selectors_[size_t(omp_get_thread_num())]) sels.push_back(p.get());
      Agg* agg = &agg_[(size_t(view.layer) * H_ + h) * sels.size()];
      RowRanker ranker;
      std::vector<double> v;
      for (int b = 0; b < s.B; ++b) {
        SelectionRun run;
        run.attention = view.attention;
        run.inputs = &in;
        run.b = b;
        run.h = h;
        run.mask = &mask;
        if (calibration_ && needs_calibration())
          run.channels = &calibration_->channels(view.layer, h);
        const float* vf = in.v + (int64_t(b) * s.H + h) * s.head_size();
        v.assign(vf, vf + s.head_size());
        stream_selections(
            run, sels, [&](int t, const float* row, const std::vector<std::vector<int>>& keys) {
              size_t largest = 0;
              for (const std::vector<int>& k : keys) largest = std::max(largest, k.size());
              ranker.set(t, row, mask, v.data(), s.Dh, int(largest));
              for (size_t i = 0; i < keys.size(); ++i) {
                const RowRecall r = ranker.measure(keys[i]);
                agg[i].add(r);
                if (sink_) sink_(view.layer, b, h, i, r);
              }
            });
        for (size_t i = 0; i < sels.size(); ++i) agg[i].recall.end_sequence();
      }
    } catch (...) {
#pragma omp critical(sparsity_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

HeadTable SparsityAnalyzer::table() const {
  HeadTable t(L_, H_);
  size_t buckets = 0;
  for (int l = 0; l < L_; ++l)
    for (int h = 0; h < H_; ++h)
      for (size_t i = 0; i < labels_.size(); ++i) {
        const Agg& a = agg_[(size_t(l) * H_ + h) * labels_.size() + i];
        const std::string& p = labels_[i];
        const double n = double(std::max<int64_t>(a.rows, 1));
        std::vector<float> r = a.recalls;
        double p10 = std::nan("");
        if (!r.empty()) {
          // The lower nearest-rank 10th percentile.
          const size_t k = size_t(std::floor(0.1 * double(r.size() - 1)));
          std::nth_element(r.begin(), r.begin() + k, r.end());
          p10 = r[k];
        }
        t.set(p + ".recall", l, h, a.recall.mean());
        t.set_ci95(p + ".recall", l, h, a.recall.ci95());
        t.set(p + ".recall_p10", l, h, p10);
        t.set(p + ".oracle", l, h, a.oracle / n);
        t.set(p + ".efficiency", l, h, a.efficiency / n);
        t.set(p + ".set_recall", l, h, a.set_recall / n);
        t.set(p + ".out_err", l, h, a.out_error / n);
        t.set(p + ".fail", l, h, double(a.fails) / n);
        t.set(p + ".density", l, h, a.visible > 0 ? a.selected / a.visible : std::nan(""));
        std::vector<double> br, bf, bd;
        for (size_t b = 0; b < a.b_rows.size(); ++b) {
          const double m = double(std::max<int64_t>(a.b_rows[b], 1));
          br.push_back(a.b_recall[b] / m);
          bf.push_back(double(a.b_fails[b]) / m);
          bd.push_back(a.b_visible[b] > 0 ? a.b_selected[b] / a.b_visible[b] : std::nan(""));
        }
        buckets = std::max(buckets, br.size());
        t.set_head_vector(p + ".recall_by_bucket", l, h, std::move(br));
        t.set_head_vector(p + ".fail_by_bucket", l, h, std::move(bf));
        t.set_head_vector(p + ".density_by_bucket", l, h, std::move(bd));
      }
  std::string names, pats;
  for (size_t b = 0; b < buckets; ++b) names += (b ? " " : "") + position_bucket_name(int(b));
  for (size_t i = 0; i < labels_.size(); ++i) pats += (i ? ";" : "") + labels_[i];
  t.set_meta("sparsity_buckets", names);
  t.set_meta("sparsity_patterns", pats);
  t.set_meta("sparsity_note",
             "window() keeps original positions (MInference's A-shape), not StreamingLLM's "
             "re-indexed cache; "
             "recall is teacher-forced (every layer dense, the pattern only evaluated)");
  return t;
}

}  // namespace attnlab
