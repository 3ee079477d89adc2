#pragma once
// A KV cache for incremental decoding. Prefill a prompt once, then feed one token at a time:
// each call computes only the new positions' queries, keys and values (RoPE at their true
// positions, grouped-query heads unrepeated) and attends to every cached key.
//
//   KVCache cache(model.config());                       // batch 1, capacity = context
//   const Tensor& a = model.forward_cached(prompt.data(), 1, n, cache);  // logits [1, n, V]
//   const Tensor& b = model.forward_cached(&next, 1, 1, cache);         // logits [1, 1, V]
//
// Logits at position t equal row t of model.forward() on positions 0..t. Score-based variants
// (softmax, window, sigmoid, ..., fox, gated, with any mask) support it; the others (the linear
// family, diff, and sigmoid(bias=-log_n), whose rows depend on the sequence length) throw an
// Error from Attention::forward_cached; Transformer::supports_cached_decoding says beforehand.
//
// Sparse decoding: set_selector() installs a KeySelector (core/attention/attention.h) that every
// score-based head calls for every new query row, with the query, the cached keys and the row's
// candidate keys and scores; the keys it leaves out are hidden for that row only (the cache
// keeps them). For a schedule that drops keys for good, the selector remembers what it dropped,
// and compact() then frees them: each kv head keeps only the positions it is given, stored
// densely with their positions recorded, in a buffer of its own size: what it keeps plus room for
// the positions still to come.
#include <functional>
#include <vector>

#include "core/attention/attention.h"
#include "core/model/config.h"

namespace attnlab {

// One layer's cache: keys/values [B, Hkv, capacity, Dh] (after RoPE) and the variant's own
// decoding state. Before compact(), row j of every head holds position j (rows 0..length-1
// filled). After it, each kv head bg = b * Hkv + g has rows of its own number, from float
// start[bg] to start[bg + 1] of k and v, row i holding position positions[bg][i] (ascending).
struct KVCacheLayer {
  int capacity = 0;       // rows per kv head (before compact())
  int max_positions = 0;  // the cache's capacity in positions
  std::vector<float> k, v;
  std::vector<double> state;
  std::vector<std::vector<int>> positions;  // empty until compact()
  std::vector<int64_t> start;               // [B * Hkv + 1], empty until compact()
  // Where head bg's rows begin in k and v, and how many it has room for.
  int64_t head_start(int bg, int Dh) const {
    return start.empty() ? int64_t(bg) * capacity * Dh : start[size_t(bg)];
  }
  int head_rows(int bg, int Dh) const {
    return start.empty() ? capacity : int((start[size_t(bg) + 1] - start[size_t(bg)]) / Dh);
  }
  // The row that position `length` (the next one) goes to in head bg.
  int next_row(int bg, int length) const {
    return positions.empty() ? length : int(positions[size_t(bg)].size());
  }
};

class KVCache {
 public:
  // capacity 0 means the model's context; memory is 2 x layers x B x Hkv x capacity x Dh floats.
  explicit KVCache(const ModelConfig& cfg, int batch = 1, int capacity = 0);

  int batch() const { return B_; }
  int capacity() const { return capacity_; }
  int length() const { return length_; }  // positions cached so far
  void clear();                           // forget every position (memory stays allocated)

  // Keeps, in every layer and kv head, only the cached positions keep(layer, b, g) returns
  // (ascending, each < length()) and frees the rest for good; later positions append as usual.
  // Throws on a position that is not cached.
  // A key selector reads keys by position, which a compacted cache no longer stores: compact()
  // removes it, and forward_cached refuses a selector set on a compacted cache.
  using KeepFn = std::function<std::vector<int>(int layer, int b, int g)>;
  void compact(const KeepFn& keep);
  bool compacted() const { return !layers_.empty() && !layers_.front().positions.empty(); }
  size_t bytes() const;  // the keys' and values' buffers

  void set_selector(KeySelector select) { select_ = std::move(select); }
  const KeySelector* selector() const { return select_ ? &select_ : nullptr; }

  // For Transformer::forward_cached.
  KVCacheLayer& layer(int l) { return layers_.at(size_t(l)); }
  int n_layers() const { return int(layers_.size()); }
  int kv_heads() const { return Hkv_; }
  int head_dim() const { return Dh_; }
  void advance(int n) { length_ += n; }

 private:
  int B_, capacity_, Hkv_, Dh_, length_ = 0;
  std::vector<KVCacheLayer> layers_;
  KeySelector select_;
};

}  // namespace attnlab
