#pragma once
// Masked mean cross-entropy over logits [N, V]:
//   loss = sum_n mask[n] * (logsumexp(logits[n]) - logits[n][target[n]]) / sum_n mask[n].
#include <cstdint>

namespace attnlab {

// Writes per-position losses (0 where mask is 0) and returns the masked mean.
// Throws attnlab::Error for a target outside [0, V) at a scored position, or an all-zero mask.
float cross_entropy_forward(float* losses, const float* logits, const int32_t* targets,
                            const float* mask, int N, int V);
// dlogits = mask[n] / sum(mask) * (softmax(logits[n]) - onehot(target[n])).
void cross_entropy_backward(float* dlogits, const float* logits, const int32_t* targets,
                            const float* mask, int N, int V);

}  // namespace attnlab
