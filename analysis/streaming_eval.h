#pragma once
// StreamingLLM at inference (Xiao et al. 2024, REFERENCE.md 1.2 and R7): evaluate a model as if
// its KV cache kept only the first `sinks` tokens and the last `window` ones. The mask equivalent
// (key j visible to query t iff j < sinks or t - window < j <= t) is the `window` mask modifier,
// so each layer's variant is swapped for the same spec with "+window(size=W,sinks=S)" appended
// (its own parameters copied over) and swapped back afterwards. Positions are not re-indexed as
// StreamingLLM's cache does: under RoPE only relative distances matter, and probe sequences no
// longer than the training context keep every distance in the trained range.
#include <memory>
#include <string>
#include <vector>

#include "core/train/batch.h"

namespace attnlab {

class Attention;
class Transformer;

// While alive, every layer of `model` attends through a window of `window` keys plus the first
// `sinks`. Throws attnlab::Error for a variant that takes no mask modifiers (linear/recurrent).
class ScopedStreamingWindow {
 public:
  ScopedStreamingWindow(Transformer& model, int window, int sinks);
  ~ScopedStreamingWindow();
  ScopedStreamingWindow(const ScopedStreamingWindow&) = delete;
  ScopedStreamingWindow& operator=(const ScopedStreamingWindow&) = delete;

 private:
  Transformer& model_;
  std::vector<std::unique_ptr<Attention>> originals_;  // per layer, restored by the destructor
};

// "softmax" -> "softmax+window(size=16,sinks=4)".
std::string streaming_spec(const std::string& spec, int window, int sinks);

// Mean next-token loss over the scored positions t >= from_pos of `batches` (the positions whose
// window has evicted keys when from_pos = window), with the model as it is now.
double positional_loss(Transformer& model, const std::vector<Batch>& batches, int from_pos);

struct StreamingLosses {
  double dense = 0, window = 0, sinks = 0;  // full attention; window only; window + sinks
};
// The three losses on the same positions (t >= window).
StreamingLosses streaming_losses(Transformer& model, const std::vector<Batch>& batches, int window,
                                 int sinks);

}  // namespace attnlab
