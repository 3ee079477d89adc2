#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "core/model/kv_cache.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "core/tensor/rng.h"

namespace attnlab {

namespace {

int sample_token(const float* logits, int V, const SampleOptions& opts, Rng& rng) {
  if (opts.temperature <= 0) return int(std::max_element(logits, logits + V) - logits);
  std::vector<double> p(static_cast<size_t>(V));
  float mx = *std::max_element(logits, logits + V);
  double sum = 0;
  for (int v = 0; v < V; ++v) sum += p[size_t(v)] = std::exp((logits[v] - mx) / opts.temperature);
  for (double& x : p) x /= sum;
  std::vector<int> order(static_cast<size_t>(V));
  std::iota(order.begin(), order.end(), 0);
  double keep = 1.0;
  if (opts.top_p < 1.0f) {  // nucleus: the smallest set of tokens whose mass reaches top_p
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return p[size_t(a)] > p[size_t(b)]; });
    double cum = 0;
    size_t n = 0;
    while (n < order.size() && cum < opts.top_p) cum += p[size_t(order[n++])];
    order.resize(n);
    keep = cum;
  }
  double r = rng.uniform() * keep, cum = 0;
  for (int v : order) {
    cum += p[size_t(v)];
    if (r < cum) return v;
  }
  return order.back();
}

}  // namespace

std::vector<int32_t> generate(Transformer& model, const std::vector<int32_t>& prompt,
                              const SampleOptions& opts, const DecodeHooks& hooks) {
  const int ctx = model.config().context, V = model.config().vocab_size;
  if (prompt.empty()) throw Error("generate: the prompt is empty (give at least a BOS token)");
  if (int(prompt.size()) > ctx)
    throw Error("prompt of " + std::to_string(prompt.size()) +
                " tokens is longer than the model's context (" + std::to_string(ctx) + ")");
  Rng rng(opts.seed);
  std::vector<int32_t> seq = prompt;
  if ((hooks.cache || hooks.after_prefill) && !model.supports_cached_decoding())
    throw Error("generate: this model cannot decode incrementally (a variant without cached "
                "decoding, or observers attached), so it cannot use the given KV cache hooks");
  if (hooks.cache && hooks.cache->length() != 0)
    throw Error("generate: the given KV cache already holds " +
                std::to_string(hooks.cache->length()) + " positions; give an empty one");
  if (!model.supports_cached_decoding()) {
    // Variants without incremental decoding (the linear family, diff) or attached observers:
    // recompute the whole sequence for each new token.
    for (int i = 0; i < opts.max_new && int(seq.size()) < ctx; ++i) {
      const Tensor& logits = model.forward(seq.data(), 1, int(seq.size()));
      int next = sample_token(logits.ptr() + int64_t(seq.size() - 1) * V, V, opts, rng);
      if (next == opts.stop_token) break;
      seq.push_back(next);
    }
  } else {
    std::optional<KVCache> own;  // a whole dense cache only when none is given
    if (!hooks.cache) own.emplace(model.config());
    KVCache& cache = hooks.cache ? *hooks.cache : *own;
    const Tensor* logits = &model.forward_cached(seq.data(), 1, int(seq.size()), cache);
    if (hooks.after_prefill) hooks.after_prefill(cache);
    for (int i = 0; i < opts.max_new && int(seq.size()) < ctx; ++i) {
      const int64_t last = logits->shape[1] - 1;
      int next = sample_token(logits->ptr() + last * V, V, opts, rng);
      if (next == opts.stop_token) break;
      seq.push_back(next);
      if (i + 1 < opts.max_new && int(seq.size()) < ctx)
        logits = &model.forward_cached(&seq.back(), 1, 1, cache);
    }
  }
  return std::vector<int32_t>(seq.begin() + int64_t(prompt.size()), seq.end());
}

}  // namespace attnlab
