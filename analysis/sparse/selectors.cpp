// The patterns of selector.h. Each class cites the public code it follows (shared/SPARSE.md 4).
#include <Eigen/Core>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <numeric>

#include "analysis/sparse/selector.h"
#include "core/attention/spec.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

constexpr int kDefaultBlock = 64;  // MInference's kernel block; also converts block budgets
const double kInf = std::numeric_limits<double>::infinity();

void visible_keys(const KeyMask& mask, int t, std::vector<int>& out) {
  if (mask.causal_only()) {
    out.resize(size_t(t) + 1);
    std::iota(out.begin(), out.end(), 0);
    return;
  }
  out.clear();
  for (int j = 0; j <= t; ++j)
    if (mask.visible(t, j)) out.push_back(j);
}

double dot(const float* a, const float* b, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += double(a[i]) * b[i];
  return s;
}

// "name(a=1 b=2)": a label that can head a CSV column.
std::string make_label(const std::string& name, const std::vector<std::string>& params) {
  std::string s = name + "(";
  for (size_t i = 0; i < params.size(); ++i) s += (i ? " " : "") + params[i];
  return s + ")";
}
std::string kv(const std::string& k, double v) { return k + "=" + format_number(v); }

// Calls f(r, j, A_rj) over the last min(m, given) estimation rows r < v.limit and their keys j <= r.
template <class F>
void for_each_estimate(const HeadView& v, int m, F f) {
  const int L = v.limit, given = int(v.est_rows->size());
  m = std::min(m, given);
  for (int i = 0; i < m; ++i) {
    const int r = L - m + i;
    const float* p = (*v.est_rows)[size_t(given - m + i)].data();
    for (int j = 0; j <= r; ++j) f(r, j, p[j]);
  }
}

// Keys in all for a pattern that selects once per head from an estimate over the first `limit`
// keys (vertical_slash, snapkv): a fraction budget counts the estimated keys.
int estimate_keys(const Budget& b, int limit) {
  const double tok = b.kind == Budget::tokens   ? b.value
                     : b.kind == Budget::blocks ? b.value * kDefaultBlock
                                                : std::ceil(b.value * limit - 1e-9);
  return int(tok);
}

// Oracle top-k (shared/SPARSE.md 1.2): the k largest true weights, ties to the earlier key as the
// workbench's trainable topk does.
class TopK : public SparseSelector {
 public:
  TopK(Budget b, bool overridden) : b_(b) {
    label_ = make_label("topk", {overridden ? "budget=" + b.str() : kv("k", b.value)});
  }
  std::string label() const override { return label_; }
  void select(int t, const float* row, std::vector<int>& keys) override {
    visible_keys(*v_.mask, t, cand_);
    top_by_score(
        cand_, b_.row_keys(int(cand_.size()), kDefaultBlock), [&](int j) { return row[j]; }, keys);
  }

 private:
  Budget b_;
  std::string label_;
  std::vector<int> cand_;
};

// Sinks + sliding window, the A-shape (mit-han-lab/streaming-llm kv_cache.py: start_size,
// recent_size). With a budget, the window gets what the sinks leave of it.
class SinkWindow : public SparseSelector {
 public:
  SinkWindow(int size, int sinks, const Budget* b) : size_(size), sinks_(sinks) {
    if (b) b_ = *b;
    has_budget_ = b != nullptr;
    label_ = make_label(
        "window", {has_budget_ ? "budget=" + b_.str() : kv("size", size), kv("sinks", sinks)});
  }
  std::string label() const override { return label_; }
  void select(int t, const float*, std::vector<int>& keys) override {
    int s = sinks_, w = size_;
    if (has_budget_) {
      const int k = b_.row_keys(v_.mask->visible_count(t), kDefaultBlock);
      s = std::min(sinks_, k);
      w = k - s;
    }
    // Counted over the visible keys, so that under a mask modifier the sinks are the first keys
    // the query sees and the window its most recent ones (plain causal: positions j < s, j > t -
    // w).
    visible_keys(*v_.mask, t, cand_);
    const int n = int(cand_.size());
    keys.clear();
    for (int i = 0; i < n; ++i)
      if (i < s || i >= n - w) keys.push_back(cand_[size_t(i)]);
  }

 private:
  int size_, sinks_;
  Budget b_;
  bool has_budget_ = false;
  std::string label_;
  std::vector<int> cand_;
};

// Block-sparse (microsoft/MInference ops/block_sparse_flash_attention.py::_build_block_index):
// mean-pooled q_I . k_J over causal blocks J <= I, top-K J per query block I; score=oracle ranks
// blocks by their true mass sum_{t in I, j in J} A_tj instead (the estimator's upper bound).
class BlockTopK : public SparseSelector {
 public:
  BlockTopK(int block, Budget k, bool overridden, bool oracle)
      : block_(block), k_(k), oracle_(oracle) {
    label_ = make_label("block_topk",
                        {overridden ? "budget=" + k.str() : kv("k", k.value), kv("block", block),
                         std::string("score=") + (oracle ? "oracle" : "mean")});
  }
  std::string label() const override { return label_; }
  int query_block(bool causal) const override { return causal ? 1 : block_; }

  void begin_head(const HeadView& v) override {
    v_ = v;
    const int nb = (v.T + block_ - 1) / block_;
    kmean_.assign(size_t(nb) * v.Dh, 0.0);
    if (oracle_) return;
    // Key blocks pooled over the keys the estimate may read (< limit; a block past it keeps all).
    for (int J = 0; J < nb; ++J) {
      const int b0 = J * block_, b1 = std::min(v.T, b0 + block_);
      const int e = b0 < v.limit ? std::min(b1, v.limit) : b1;
      for (int j = b0; j < e; ++j)
        for (int d = 0; d < v.Dh; ++d)
          kmean_[size_t(J) * v.Dh + d] += v.k[int64_t(j) * v.Dh + d] / double(e - b0);
    }
  }

  void begin_chunk(int t0, int n, const float* const* rows) override {
    if (v_.causal) return;
    chosen_.clear();
    first_block_ = t0 / block_;
    for (int I = first_block_; I * block_ < t0 + n; ++I) {
      const int r0 = I * block_, r1 = std::min(t0 + n, r0 + block_);
      // Rows the estimate may read: those before the limit (all, for a block past it).
      const int e = r0 < v_.limit ? std::min(r1, v_.limit) : r1;
      std::vector<double> score(size_t(I) + 1, 0.0);
      if (oracle_) {
        for (int t = r0; t < e; ++t)
          for (int j = 0; j <= t; ++j) score[size_t(j / block_)] += rows[t - t0][j];
      } else {
        std::vector<double> qm(size_t(v_.Dh), 0.0);
        for (int t = r0; t < e; ++t)
          for (int d = 0; d < v_.Dh; ++d)
            qm[size_t(d)] += v_.q[int64_t(t) * v_.Dh + d] / double(e - r0);
        for (int J = 0; J <= I; ++J)
          for (int d = 0; d < v_.Dh; ++d)
            score[size_t(J)] += qm[size_t(d)] * kmean_[size_t(J) * v_.Dh + d];
      }
      chosen_.push_back(rank_blocks(score, I));
    }
  }

  void select(int t, const float* row, std::vector<int>& keys) override {
    const int I = t / block_;
    std::vector<char> keep;
    if (v_.causal) {
      // The decoder's view: this query against key blocks pooled over keys <= t.
      std::vector<double> score(size_t(I) + 1, 0.0);
      for (int J = 0; J <= I; ++J) {
        const int b0 = J * block_, b1 = std::min(t + 1, b0 + block_);
        for (int j = b0; j < b1; ++j)
          score[size_t(J)] +=
              oracle_
                  ? row[j]
                  : dot(v_.q + int64_t(t) * v_.Dh, v_.k + int64_t(j) * v_.Dh, v_.Dh) / (b1 - b0);
      }
      keep = rank_blocks(score, I);
    } else {
      keep = chosen_.at(size_t(I - first_block_));
    }
    keys.clear();
    for (int j = 0; j <= t; ++j)
      if (keep[size_t(j / block_)] && v_.mask->visible(t, j)) keys.push_back(j);
  }

 private:
  // Marks the top-K of blocks 0..I by score.
  std::vector<char> rank_blocks(const std::vector<double>& score, int I) {
    cand_.resize(size_t(I) + 1);
    for (int J = 0; J <= I; ++J) cand_[size_t(J)] = J;
    int K = 0;
    switch (k_.kind) {
      case Budget::blocks:
        K = int(k_.value);
        break;
      case Budget::tokens:
        K = int(std::ceil(k_.value / block_));
        break;
      case Budget::fraction:
        K = int(std::ceil(k_.value * (I + 1) - 1e-9));
        break;
    }
    top_by_score(
        cand_, std::clamp(K, 1, I + 1), [&](int J) { return score[size_t(J)]; }, top_);
    std::vector<char> keep(size_t(I) + 1, 0);
    for (int J : top_) keep[size_t(J)] = 1;
    return keep;
  }

  int block_;
  Budget k_;
  bool oracle_;
  std::string label_;
  std::vector<double> kmean_;
  std::vector<std::vector<char>> chosen_;
  int first_block_ = 0;
  std::vector<int> cand_, top_;
};

// Vertical-slash (microsoft/MInference minference_forward.py, vertical_and_slash index
// estimation): the last `last_q` queries' attention summed per column and per diagonal; the first
// force_v columns and the force_s nearest diagonals are set to +inf before the top-v / top-s, as
// MInference does (its prefill forces 30 columns and 100 diagonals, the Sparse Frontier 4 and 64).
class VerticalSlash : public SparseSelector {
 public:
  VerticalSlash(int v, int s, int last_q, int force_v, int force_s, const Budget* b)
      : v_n_(v), s_n_(s), last_q_(last_q), force_v_(force_v), force_s_(force_s) {
    if (b) budget_ = *b;
    has_budget_ = b != nullptr;
    label_ = make_label("vertical_slash",
                        {has_budget_ ? "budget=" + b->str() : kv("v", v) + " " + kv("s", s),
                         kv("last_q", last_q), kv("force_v", force_v), kv("force_s", force_s)});
  }
  std::string label() const override { return label_; }
  int lookback() const override { return last_q_; }

  void begin_head(const HeadView& v) override {
    v_ = v;
    if (!v.est_rows) throw Error("vertical_slash: the estimation rows were not given");
    int nv = v_n_, ns = s_n_;
    if (has_budget_) {
      // Every column and every diagonal adds at most one key per row: half the budget each.
      const int tok = estimate_keys(budget_, v.limit);
      nv = std::max(1, tok / 2);
      ns = std::max(1, tok - nv);
    }
    // The last last_q of the rows given (another pattern may have asked for more).
    const int L = v.limit;
    std::vector<double> col(size_t(L), 0.0), diag(size_t(L), 0.0);
    for_each_estimate(v, last_q_, [&](int r, int j, float a) {
      col[size_t(j)] += a;
      diag[size_t(r - j)] += a;
    });
    for (int j = 0; j < std::min(force_v_, L); ++j) col[size_t(j)] = kInf;
    for (int d = 0; d < std::min(force_s_, L); ++d) diag[size_t(d)] = kInf;
    cols_.assign(size_t(v.T), 0);
    diags_.assign(size_t(v.T), 0);
    cand_.resize(size_t(L));
    for (int j = 0; j < L; ++j) cand_[size_t(j)] = j;
    top_by_score(
        cand_, nv, [&](int j) { return col[size_t(j)]; }, top_);
    for (int j : top_) cols_[size_t(j)] = 1;
    top_by_score(
        cand_, ns, [&](int d) { return diag[size_t(d)]; }, top_);
    for (int d : top_) diags_[size_t(d)] = 1;
  }

  void select(int t, const float*, std::vector<int>& keys) override {
    keys.clear();
    for (int j = 0; j <= t; ++j)
      if ((cols_[size_t(j)] || diags_[size_t(t - j)]) && v_.mask->visible(t, j)) keys.push_back(j);
  }

 private:
  int v_n_, s_n_, last_q_, force_v_, force_s_;
  Budget budget_;
  bool has_budget_ = false;
  std::string label_;
  std::vector<char> cols_, diags_;
  std::vector<int> cand_, top_;
};

// SnapKV as the Sparse Frontier runs it (PiotrNawrot/sparse-frontier
// modelling/attention/kv_compression.py, SnapKVCompression): each key's importance is its
// attention summed over the last `obs` prefill queries, smoothed by avg_pool1d(kernel, stride 1,
// zero padding counted), the first `prefix` and last `local` keys forced in, and the top `k` of
// the prefill's keys kept. Keys from the prefill on are always kept (decoded after compression).
// One set per query head: the Sparse Frontier averages a GQA group's importance, the KV cache here
// keeps the union of the group's sets (decode_hook.h).
class SnapKV : public SparseSelector {
 public:
  SnapKV(int k, int obs, int kernel, int local, int prefix, const Budget* b)
      : k_(k), obs_(obs), kernel_(kernel), local_(local), prefix_(prefix) {
    if (b) budget_ = *b;
    has_budget_ = b != nullptr;
    label_ = make_label("snapkv", {has_budget_ ? "budget=" + b->str() : kv("k", k), kv("obs", obs),
                                   kv("kernel", kernel), kv("local", local), kv("prefix", prefix)});
  }
  std::string label() const override { return label_; }
  int lookback() const override { return obs_; }

  void begin_head(const HeadView& v) override {
    v_ = v;
    if (!v.est_rows) throw Error("snapkv: the observation rows were not given");
    const int L = v.limit;
    const int capacity = std::min(has_budget_ ? estimate_keys(budget_, L) : k_, L);
    keep_.assign(size_t(v.T), 1);
    if (capacity >= L) return;  // nothing to compress
    if (capacity <= local_ + prefix_)
      throw Error(label_ + ": a capacity of " + std::to_string(capacity) +
                  " keys must exceed local + prefix = " + std::to_string(local_ + prefix_) +
                  " (the Sparse Frontier asserts the same); lower local or prefix, or raise the "
                  "budget");
    std::vector<double> imp(size_t(L), 0.0);
    for_each_estimate(v, obs_, [&](int, int j, float a) { imp[size_t(j)] += a; });
    std::vector<double> pooled(size_t(L), 0.0);
    const int half = kernel_ / 2;
    for (int j = 0; j < L; ++j) {
      double s = 0;
      for (int i = std::max(0, j - half); i <= std::min(L - 1, j + half); ++i) s += imp[size_t(i)];
      pooled[size_t(j)] = s / kernel_;
    }
    for (int j = 0; j < std::min(prefix_, L); ++j) pooled[size_t(j)] = kInf;
    for (int j = std::max(0, L - local_); j < L; ++j) pooled[size_t(j)] = kInf;
    cand_.resize(size_t(L));
    std::iota(cand_.begin(), cand_.end(), 0);
    top_by_score(
        cand_, capacity, [&](int j) { return pooled[size_t(j)]; }, top_);
    std::fill(keep_.begin(), keep_.begin() + L, 0);
    for (int j : top_) keep_[size_t(j)] = 1;
  }

  void select(int t, const float*, std::vector<int>& keys) override {
    keys.clear();
    for (int j = 0; j <= t; ++j)
      if (keep_[size_t(j)] && v_.mask->visible(t, j)) keys.push_back(j);
  }

 private:
  int k_, obs_, kernel_, local_, prefix_;
  Budget budget_;
  bool has_budget_ = false;
  std::string label_;
  std::vector<char> keep_;
  std::vector<int> cand_, top_;
};

// Quest (mit-han-lab/Quest evaluation/quest_attention.py): per page of P keys the channel-wise
// min m and max M; page bound U = sum_i max(q_i m_i, q_i M_i) >= max_j q.k_j. The query's own
// (partial) page is always kept and counts in the budget, as the Sparse Frontier's decoding
// takes B/P history pages plus the current one.
class Quest : public SparseSelector {
 public:
  Quest(int page, Budget b, bool overridden) : page_(page), b_(b) {
    label_ = make_label("quest",
                        {overridden ? "budget=" + b.str() : kv("k", b.value), kv("page", page)});
  }
  std::string label() const override { return label_; }

  void share_work(SparseSelector& first) override {
    auto* q = dynamic_cast<Quest*>(&first);
    src_ = q && q->page_ == page_ ? q : nullptr;
  }

  void begin_head(const HeadView& v) override {
    v_ = v;
    bounds_t_ = -1;
    if (src_) return;  // the bounds come from src_ (same keys, same pages)
    const int np = (v.T + page_ - 1) / page_;
    // [Dh, pages]: a query's bounds for every page come from one pass down the channels, each
    // step vectorized over pages (the per-page sum still runs over channels in order).
    lo_.setConstant(v.Dh, np, kInf);
    hi_.setConstant(v.Dh, np, -kInf);
    for (int j = 0; j < v.T; ++j)
      for (int d = 0; d < v.Dh; ++d) {
        const double x = v.k[int64_t(j) * v.Dh + d];
        double& l = lo_(d, j / page_);
        double& h = hi_(d, j / page_);
        l = std::min(l, x);
        h = std::max(h, x);
      }
  }

  void select(int t, const float*, std::vector<int>& keys) override {
    const int cur = t / page_;
    // Candidates: the earlier pages holding a key this query sees (a masked page is not cached).
    cand_.clear();
    for (int p = 0; p < cur; ++p)
      for (int j = p * page_; j < (p + 1) * page_; ++j)
        if (v_.mask->visible(t, j)) {
          cand_.push_back(p);
          break;
        }
    int pages = 0;
    switch (b_.kind) {
      case Budget::tokens:
        pages = int(b_.value) / page_;
        break;
      case Budget::blocks:
        pages = int(b_.value);
        break;
      // A fraction of the pages holding a key this query sees (its own page included).
      case Budget::fraction:
        pages = int(std::ceil(b_.value * double(cand_.size() + 1) - 1e-9));
        break;
    }
    pages = std::max(pages, 1);
    const Eigen::ArrayXd& u = page_bounds(t);
    top_by_score(
        cand_, pages - 1, [&](int p) { return u[p]; }, top_);
    keep_.assign(size_t(cur) + 1, 0);
    keep_[size_t(cur)] = 1;
    for (int p : top_) keep_[size_t(p)] = 1;
    keys.clear();
    for (int j = 0; j <= t; ++j)
      if (keep_[size_t(j / page_)] && v_.mask->visible(t, j)) keys.push_back(j);
  }

 private:
  // u[p] = U(q_t, page p) = sum_d max(q_d m_pd, q_d M_pd) for the pages p before t's own.
  const Eigen::ArrayXd& page_bounds(int t) {
    if (src_ && src_->bounds_t_ == t) return src_->u_;
    if (src_) return src_->page_bounds(t);  // src_ skipped this row: fill its bounds now
    if (bounds_t_ == t) return u_;
    const float* q = v_.q + int64_t(t) * v_.Dh;
    const int n = t / page_;
    u_.setZero(std::max(n, 1));
    for (int d = 0; d < v_.Dh; ++d) {
      const double qd = q[d];
      u_.head(n) += (qd * lo_.row(d).head(n).array()).max(qd * hi_.row(d).head(n).array());
    }
    bounds_t_ = t;
    return u_;
  }

  Quest* src_ = nullptr;
  int bounds_t_ = -1;
  int page_;
  Budget b_;
  std::string label_;
  Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> lo_, hi_;
  Eigen::ArrayXd u_;
  std::vector<char> keep_;
  std::vector<int> cand_, top_;
};

// Double Sparsity (andy-yang-1/DoubleSparse evaluation/modify_llama.py): the approximate score
// q[C].k[C] on the Dh/group calibrated channels C, top-k tokens by it ("heavy_const"). The 1/sqrt
// scale of the approximate score does not change the ranking and is left out.
class ChannelTopK : public SparseSelector {
 public:
  ChannelTopK(int group, Budget b, bool overridden) : group_(group), b_(b) {
    label_ = make_label("channel_topk",
                        {overridden ? "budget=" + b.str() : kv("k", b.value), kv("group", group)});
  }
  std::string label() const override { return label_; }
  bool needs_channels() const override { return true; }
  void share_work(SparseSelector& first) override {
    auto* c = dynamic_cast<ChannelTopK*>(&first);
    src_ = c && c->group_ == group_ ? c : nullptr;
  }
  void begin_head(const HeadView& v) override {
    v_ = v;
    scored_t_ = -1;
    if (!v.channels || int(v.channels->size()) != v.Dh)
      throw Error("channel_topk needs a channel calibration of this head (" + std::to_string(v.Dh) +
                  " channels)");
    if (src_) return;  // the scores come from src_ (same channels, same keys)
    const int C = std::max(1, v.Dh / group_);
    chan_.assign(v.channels->begin(), v.channels->begin() + C);
    // The calibrated channels of every key, one contiguous column per channel, so that a
    // query's scores against all keys are C vectorized steps (each key's sum still in channel
    // order).
    kc_.resize(v.T, C);
    for (int j = 0; j < v.T; ++j)
      for (int c = 0; c < C; ++c) kc_(j, c) = v.k[int64_t(j) * v.Dh + chan_[size_t(c)]];
  }
  void select(int t, const float*, std::vector<int>& keys) override {
    visible_keys(*v_.mask, t, cand_);
    const Eigen::ArrayXd& score = scores(t);
    top_by_score(
        cand_, b_.row_keys(int(cand_.size()), kDefaultBlock), [&](int j) { return score[j]; },
        keys);
  }

 private:
  // Query t's approximate score against keys 0..t.
  const Eigen::ArrayXd& scores(int t) {
    if (src_ && src_->scored_t_ == t) return src_->score_;
    if (src_) return src_->scores(t);  // src_ skipped this row: fill its scores now
    if (scored_t_ == t) return score_;
    const float* q = v_.q + int64_t(t) * v_.Dh;
    score_.setZero(t + 1);
    for (int c = 0; c < int(chan_.size()); ++c)
      score_ += double(q[chan_[size_t(c)]]) * kc_.col(c).head(t + 1);
    scored_t_ = t;
    return score_;
  }

  ChannelTopK* src_ = nullptr;
  int scored_t_ = -1;
  int group_;
  Budget b_;
  std::string label_;
  std::vector<int> chan_, cand_;
  Eigen::ArrayXXd kc_;  // [T, channels]
  Eigen::ArrayXd score_;
};

Budget tokens_budget(int k) { return Budget{Budget::tokens, double(k)}; }

}  // namespace

std::string pattern_help() {
  return "topk(k=64) | block_topk(k=4,block=64,score=mean|oracle) | "
         "vertical_slash(v=32,s=32,last_q=64,force_v=4,force_s=64) | window(size=60,sinks=4) | "
         "quest(k=64,page=16) | channel_topk(k=64,group=4) | "
         "snapkv(k=1024,obs=256,kernel=21,local=128,prefix=4)";
}

std::unique_ptr<SparseSelector> make_selector(const std::string& spec, const Budget* budget) {
  std::vector<SpecTerm> terms = parse_spec(spec, "sparse pattern");
  if (terms.size() != 1)
    throw Error("sparse pattern '" + spec + "': one pattern per spec (" + pattern_help() + ")");
  const SpecTerm& term = terms[0];
  SpecArgs a("sparse pattern '" + term.name + "'", term.args);
  std::unique_ptr<SparseSelector> s;
  const int big = 1 << 30;
  if (term.name == "topk") {
    const int k = a.get_int("k", 64, 1, big);
    s = std::make_unique<TopK>(budget ? *budget : tokens_budget(k), budget != nullptr);
  } else if (term.name == "block_topk") {
    const int k = a.get_int("k", 4, 1, big), block = a.get_int("block", kDefaultBlock, 1, 1 << 16);
    const bool oracle = a.get_choice("score", "mean", {"mean", "oracle"}) == "oracle";
    s = std::make_unique<BlockTopK>(block, budget ? *budget : Budget{Budget::blocks, double(k)},
                                    budget != nullptr, oracle);
  } else if (term.name == "vertical_slash") {
    const int v = a.get_int("v", 32, 1, big), sl = a.get_int("s", 32, 1, big);
    const int last_q = a.get_int("last_q", 64, 1, big);
    const int fv = a.get_int("force_v", 4, 0, big), fs = a.get_int("force_s", 64, 0, big);
    s = std::make_unique<VerticalSlash>(v, sl, last_q, fv, fs, budget);
  } else if (term.name == "window") {
    const int size = a.get_int("size", 60, 0, big), sinks = a.get_int("sinks", 4, 0, big);
    if (!budget && size + sinks < 1) a.fail("size", "window and sinks keep no key");
    s = std::make_unique<SinkWindow>(size, sinks, budget);
  } else if (term.name == "quest") {
    const int k = a.get_int("k", 64, 1, big), page = a.get_int("page", 16, 1, 1 << 16);
    s = std::make_unique<Quest>(page, budget ? *budget : tokens_budget(k), budget != nullptr);
  } else if (term.name == "snapkv") {
    // Defaults: the Sparse Frontier's configs/attention/snapkv.yaml.
    const int k = a.get_int("k", 1024, 1, big), obs = a.get_int("obs", 256, 1, big);
    const int kernel = a.get_int("kernel", 21, 1, 1 << 16);
    if (kernel % 2 == 0) a.fail("kernel", "must be odd (avg_pool1d with padding kernel/2)");
    const int local = a.get_int("local", 128, 0, big), prefix = a.get_int("prefix", 4, 0, big);
    s = std::make_unique<SnapKV>(k, obs, kernel, local, prefix, budget);
  } else if (term.name == "channel_topk") {
    const int k = a.get_int("k", 64, 1, big), group = a.get_int("group", 4, 1, 1 << 16);
    s = std::make_unique<ChannelTopK>(group, budget ? *budget : tokens_budget(k),
                                      budget != nullptr);
  } else {
    throw Error("unknown sparse pattern '" + term.name + "'; patterns are: " + pattern_help());
  }
  a.finish();
  return s;
}

std::vector<std::string> split_spec_list(const std::string& list) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(';', pos);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(pos, end - pos);
    std::erase_if(item, [](unsigned char c) { return std::isspace(c); });
    if (!item.empty()) out.push_back(item);
    pos = end + 1;
  }
  return out;
}

std::vector<std::string> parse_pattern_list(const std::string& list) {
  std::vector<std::string> out = split_spec_list(list);
  for (const std::string& s : out) make_selector(s);  // fails here, before any model runs
  if (out.empty()) throw Error("no sparse pattern given; patterns are: " + pattern_help());
  return out;
}

}  // namespace attnlab
