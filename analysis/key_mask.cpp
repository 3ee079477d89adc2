#include "analysis/key_mask.h"

#include "core/attention/spec.h"
#include "core/tensor/error.h"

namespace attnlab {

KeyMask KeyMask::window(int window, int sinks) {
  KeyMask m;
  MaskRule r;
  r.kind = MaskRule::window;
  r.size = window;
  r.sinks = sinks;
  m.masks_.add(r);
  return m;
}

KeyMask KeyMask::from_spec(const std::string& spec) {
  KeyMask m;
  for (const SpecTerm& term : parse_spec(spec))
    if (MaskSet::is_mask(term.name)) m.masks_.add(term);
  return m;
}

void KeyMask::prepare(int T) {
  if (causal_only() || T == T_) return;
  T_ = T;
  n_.assign(size_t(T), 0);
  seen_.assign(size_t(T), 0);
  for (int t = 0; t < T; ++t)
    for (int j = 0; j <= t; ++j)
      if (visible(t, j)) {
        ++n_[size_t(t)];
        ++seen_[size_t(j)];
      }
}

int KeyMask::visible_count(int t) const {
  if (causal_only()) return t + 1;
  if (t < 0 || t >= T_) throw Error("KeyMask: prepare(T) with T > " + std::to_string(t) + " first");
  return n_[size_t(t)];
}

int KeyMask::queries_seeing(int k, int T) const {
  if (k < 0 || k >= T) return 0;
  if (causal_only()) return T - k;
  if (T != T_) throw Error("KeyMask: prepared for T = " + std::to_string(T_) + ", asked for " + std::to_string(T));
  return seen_[size_t(k)];
}

}  // namespace attnlab
