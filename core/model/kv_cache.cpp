#include "core/model/kv_cache.h"

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
    l.k.assign(n, 0.0f);
    l.v.assign(n, 0.0f);
  }
}

void KVCache::clear() {
  length_ = 0;
  for (KVCacheLayer& l : layers_) l.state.clear();
}

}  // namespace attnlab
