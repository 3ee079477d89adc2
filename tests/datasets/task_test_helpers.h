#pragma once
// Helpers the dataset tests share: logits that predict a chosen token at every position.
#include <functional>

#include "core/tensor/tensor.h"
#include "core/train/batch.h"

namespace attnlab::test {

// Logits [B, T, V] with 1 at pick(b, t) and 0 elsewhere.
inline Tensor one_hot_logits(const Batch& batch, int V, const std::function<int(int, int)>& pick) {
  Tensor logits({batch.B, batch.T, V});
  for (int b = 0; b < batch.B; ++b)
    for (int t = 0; t < batch.T; ++t) {
      int v = pick(b, t);
      if (v >= 0 && v < V) logits.data[(size_t(b) * batch.T + t) * V + v] = 1.0f;
    }
  return logits;
}

// Logits that predict every target exactly.
inline Tensor perfect_logits(const Batch& batch, int V) {
  return one_hot_logits(batch, V, [&](int b, int t) { return batch.targets[size_t(b) * batch.T + t]; });
}

}  // namespace attnlab::test
