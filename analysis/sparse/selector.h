#pragma once
// Key selectors: the sparse-attention patterns whose recall analysis/sparse/recall.h measures
// and sparse_replacement.h runs. Each one picks, for query row t of one head, a set S_t of its
// visible keys; definitions, budget conventions and sources are in docs/sparse.md
// (shared/SPARSE.md 1.2). Specs use the project's name(key=value) grammar:
//   topk(k=64)                                   oracle top-k of the true row
//   block_topk(k=4,block=64,score=mean|oracle)   MInference block-sparse: top-K key blocks per
//                                                query block, by mean-pooled q.k or by true mass
//   vertical_slash(v=32,s=32,last_q=64,force_v=4,force_s=64)  MInference: columns and diagonals
//                                                estimated from the last `last_q` queries
//   window(size=60,sinks=4)                      StreamingLLM / A-shape: sinks + recent keys
//   quest(k=64,page=16)                          Quest: pages ranked by the min/max key bound
//   channel_topk(k=64,group=4)                   Double Sparsity: top-k by q.k on Dh/group
//                                                calibrated channels (channel_calibration.h)
//   snapkv(k=1024,obs=256,kernel=21,local=128,prefix=4)  SnapKV: the k keys of the prefill
//                                                with the most pooled attention from its last
//                                                `obs` queries, plus the prefix and local keys
// A Budget (budget.h) replaces the pattern's own size parameter when one is given.
#include <memory>
#include <string>
#include <vector>

#include "analysis/key_mask.h"
#include "analysis/sparse/budget.h"

namespace attnlab {

// What a selector may read for one (batch item, head).
struct HeadView {
  const float* q = nullptr;  // [T, Dh], after RoPE (what the scores use)
  const float* k = nullptr;
  int T = 0, Dh = 0;
  const KeyMask* mask = nullptr;  // prepared for T
  // Estimates (pooled blocks, vertical-slash scores) read only rows and keys < limit: the
  // prefill length under a phase schedule, T for analysis.
  int limit = 0;
  // Decode form: row t's selection reads only queries and keys <= t (what a token-by-token
  // decoder knows); block patterns then pool the row itself against keys <= t.
  bool causal = false;
  // Rows [limit - est_rows.size(), limit) of the head's attention, each T long (zeros past t):
  // vertical_slash's and snapkv's estimate. Filled when a selector's lookback() > 0.
  const std::vector<std::vector<float>>* est_rows = nullptr;
  // Channels by calibrated importance, most important first (channel_topk).
  const std::vector<int>* channels = nullptr;
};

class SparseSelector {
 public:
  virtual ~SparseSelector() = default;
  // Canonical name for tables: the spec with every parameter, commas written as spaces so it
  // can head a CSV column, e.g. "window(size=60 sinks=4)" or "topk(budget=25%)".
  virtual std::string label() const = 0;
  // Rows before `limit` the selector needs before any selection (vertical_slash: last_q,
  // snapkv: obs).
  virtual int lookback() const { return 0; }
  // Rows selected together (block patterns: one query block); 1 for per-row patterns.
  virtual int query_block(bool causal) const { return 1; }
  virtual bool needs_channels() const { return false; }
  virtual void begin_head(const HeadView& v) { v_ = v; }
  // Rows t0 .. t0 + n - 1 of the head, normalized, rows[i] of length t0 + i + 1; called before
  // select() on those rows, with n a multiple of query_block() except at the end.
  virtual void begin_chunk(int t0, int n, const float* const* rows) {}
  // Writes S_t (visible keys of query t, ascending) into `keys`; `row` is the normalized row.
  virtual void select(int t, const float* row, std::vector<int>& keys) = 0;
  // `first` is the same pattern at another budget, run on the same heads and rows just before
  // this one: a selector may reuse its work that does not depend on the budget (channel_topk's
  // approximate scores, Quest's page bounds). It must still be right if `first` skipped a row.
  virtual void share_work(SparseSelector& first) {}

 protected:
  HeadView v_;
};

// Builds a selector; `budget` (may be null) replaces the pattern's size parameter. Throws
// attnlab::Error for an unknown pattern or parameter, listing what exists.
std::unique_ptr<SparseSelector> make_selector(const std::string& spec,
                                              const Budget* budget = nullptr);
// "a(x=1,y=2); b" -> {"a(x=1,y=2)", "b"}: ';' separates items, since ',' separates parameters;
// whitespace dropped, empty items skipped.
std::vector<std::string> split_spec_list(const std::string& list);
// "topk(k=64);window(size=60,sinks=4)" -> the specs; each checked by building it once.
std::vector<std::string> parse_pattern_list(const std::string& list);
// One line per pattern with its parameters (for --help and errors).
std::string pattern_help();

// The top `k` of `cand` by score (descending; ties to the smaller index), returned ascending.
// The one ranking rule every selector shares.
template <class Score>
void top_by_score(std::vector<int>& cand, int k, Score score, std::vector<int>& out);

}  // namespace attnlab

#include "analysis/sparse/top_by_score.inl"
