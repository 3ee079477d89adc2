#include "core/model/kv_cache.h"

#include <algorithm>
#include <string>

#include "core/tensor/error.h"

namespace attnlab {

KVCache::KVCache(const ModelConfig& cfg, int batch, int capacity)
    : B_(batch),
      capacity_(capacity == 0 ? cfg.context : capacity),
      Hkv_(cfg.n_kv_heads),
      Dh_(cfg.head_dim()) {
  if (B_ < 1) throw Error("KV cache: batch must be >= 1, got " + std::to_string(B_));
  if (capacity_ < 1 || capacity_ > cfg.context)
    throw Error("KV cache: capacity " + std::to_string(capacity_) +
                " must lie in [1, the model's context " + std::to_string(cfg.context) + "]");
  const size_t n = size_t(B_) * Hkv_ * capacity_ * Dh_;
  layers_.resize(size_t(cfg.n_layers));
  for (KVCacheLayer& l : layers_) {
    l.capacity = capacity_;
    l.max_positions = capacity_;
    l.k.assign(n, 0.0f);
    l.v.assign(n, 0.0f);
  }
}

void KVCache::clear() {
  length_ = 0;
  for (KVCacheLayer& l : layers_) {
    l.state.clear();
    if (!l.positions.empty()) {  // a compacted cache grows back to its full size
      l.positions.clear();
      l.start.clear();
      l.capacity = capacity_;
      l.k.assign(size_t(B_) * Hkv_ * capacity_ * Dh_, 0.0f);
      l.v.assign(l.k.size(), 0.0f);
    }
  }
}

void KVCache::compact(const KeepFn& keep) {
  const int heads = B_ * Hkv_;
  for (int li = 0; li < n_layers(); ++li) {
    KVCacheLayer& l = layers_[size_t(li)];
    std::vector<std::vector<int>> pos(static_cast<size_t>(heads)), rows(static_cast<size_t>(heads));
    size_t longest = 0;
    for (int bg = 0; bg < heads; ++bg) {
      pos[size_t(bg)] = keep(li, bg / Hkv_, bg % Hkv_);
      const std::vector<int>& p = pos[size_t(bg)];
      for (size_t i = 0; i < p.size(); ++i) {
        // Where position p[i] is stored now.
        int row = p[i];
        if (!l.positions.empty()) {
          const std::vector<int>& old = l.positions[size_t(bg)];
          auto it = std::lower_bound(old.begin(), old.end(), p[i]);
          row = it != old.end() && *it == p[i] ? int(it - old.begin()) : -1;
        }
        if (p[i] < 0 || p[i] >= length_ || row < 0 || (i > 0 && p[i] <= p[i - 1]))
          throw Error("KV cache compact: layer " + std::to_string(li) + " kv head " +
                      std::to_string(bg % Hkv_) + ": position " + std::to_string(p[i]) +
                      " is not cached or the positions are not ascending");
        rows[size_t(bg)].push_back(row);
      }
      longest = std::max(longest, p.size());
    }
    // Each head: its kept rows plus room for the positions still to come.
    std::vector<int64_t> start(size_t(heads) + 1, 0);
    for (int bg = 0; bg < heads; ++bg)
      start[size_t(bg) + 1] =
          start[size_t(bg)] + int64_t(pos[size_t(bg)].size() + size_t(capacity_ - length_)) * Dh_;
    std::vector<float> k(size_t(start.back())), v(k.size());
    for (int bg = 0; bg < heads; ++bg)
      for (size_t i = 0; i < rows[size_t(bg)].size(); ++i) {
        const int64_t src = l.head_start(bg, Dh_) + int64_t(rows[size_t(bg)][i]) * Dh_;
        const int64_t dst = start[size_t(bg)] + int64_t(i) * Dh_;
        std::copy_n(l.k.data() + src, Dh_, k.data() + dst);
        std::copy_n(l.v.data() + src, Dh_, v.data() + dst);
      }
    l.k = std::move(k);
    l.v = std::move(v);
    l.capacity = int(longest) + (capacity_ - length_);
    l.start = std::move(start);
    l.positions = std::move(pos);
  }
  select_ = KeySelector();
}

size_t KVCache::bytes() const {
  size_t n = 0;
  for (const KVCacheLayer& l : layers_) n += (l.k.size() + l.v.size()) * sizeof(float);
  return n;
}

}  // namespace attnlab
