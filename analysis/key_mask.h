#pragma once
// Which keys a query may see, for the row statistics that divide by "visible keys" (normalized
// entropy's log n_t, the uniform level tau/n_t, exact-zero counts, Gu et al.'s alpha_k divisor).
//
// How a variant tells us: through its spec string. Attention::pattern() always hands over keys
// 0..t with hidden keys as exact zeros, but an exact zero is also a legal weight for ReLU,
// softpick or sigmoid-like variants, so zeros cannot be read as "masked". The mask is instead
// read from the spec's mask terms (core/attention/mask.h: window, block, dilated, as a variant
// name such as "window(size=64,sinks=4)" or as "+window(...)" modifiers); a spec without them
// is plain causal. prepare(T) tabulates n_t and the per-key query counts once per length.
#include <string>
#include <vector>

#include "core/attention/mask.h"

namespace attnlab {

class KeyMask {
 public:
  KeyMask() = default;
  // A StreamingLLM window: key j visible to t iff j <= t and (j < sinks or t - j < window).
  static KeyMask window(int window, int sinks);
  // Reads the mask terms of an attention spec; throws attnlab::Error on a malformed spec.
  static KeyMask from_spec(const std::string& spec);

  bool causal_only() const { return masks_.empty(); }
  bool visible(int t, int j) const { return masks_.visible(t, j); }
  // Tabulates the counts below for sequences of length T (cheap to call again with the same T).
  void prepare(int T);
  // n_t: how many keys query t (0-based) sees. Needs prepare(T) with T > t unless causal.
  int visible_count(int t) const;
  // How many of T queries see key k (0-based); T - k for plain causal attention.
  int queries_seeing(int k, int T) const;

 private:
  MaskSet masks_;
  int T_ = 0;
  std::vector<int> n_, seen_;
};

}  // namespace attnlab
