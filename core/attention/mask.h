#pragma once
// Mask modifiers that restrict which causal keys a query sees; they compose (a key must pass
// every mask) and apply to any score-based (softmax-family) variant, written after a '+':
//   window(size=w,sinks=s)   key j visible to query t iff j < s or t - w < j <= t (StreamingLLM;
//                            s = 0 is the plain sliding window of Gu et al.)
//   block(size=b)            block-local: j and t lie in the same block of b positions
//   dilated(size=w,rate=r,sinks=s)  j = t - i*r for i in [0, w), or j < s (Longformer-style)
// Keys after the query (j > t) are never visible.
#include <string>
#include <vector>

#include "core/attention/spec.h"

namespace attnlab {

struct MaskRule {
  enum Kind { window, block, dilated } kind = window;
  int size = 0;   // window length w / block length b / number of dilated keys
  int sinks = 0;  // window, dilated
  int rate = 1;   // dilated
  bool visible(int t, int j) const;
  std::string spec() const;
};

class MaskSet {
 public:
  // True when `name` names a mask modifier.
  static bool is_mask(const std::string& name);
  // Parses one modifier term; throws attnlab::Error on bad parameters.
  void add(const SpecTerm& term);
  void add(MaskRule rule) { rules_.push_back(rule); }

  bool empty() const { return rules_.empty(); }
  // Key j visible to query t (causality included).
  bool visible(int t, int j) const {
    if (j > t || j < 0) return false;
    for (const MaskRule& r : rules_)
      if (!r.visible(t, j)) return false;
    return true;
  }
  // n_t: how many keys query t sees (t + 1 without masks).
  int visible_count(int t) const;
  // Appends the keys query t sees, ascending, in time proportional to their number (the first
  // rule proposes candidates, the others filter them): kernels then skip what masks hide.
  void visible_keys(int t, std::vector<int>& out) const;
  // "+window(size=64,sinks=4)+block(size=16)", or "" without masks.
  std::string spec_suffix(size_t skip = 0) const;
  const std::vector<MaskRule>& rules() const { return rules_; }

 private:
  std::vector<MaskRule> rules_;
};

}  // namespace attnlab
