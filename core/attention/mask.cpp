#include "core/attention/mask.h"

#include <algorithm>
#include <climits>

#include "core/tensor/error.h"

namespace attnlab {

bool MaskRule::visible(int t, int j) const {
  switch (kind) {
    case window:
      return j < sinks || t - j < size;
    case block:
      return j / size == t / size;
    case dilated:
      return j < sinks || ((t - j) % rate == 0 && (t - j) / rate < size);
  }
  return true;
}

std::string MaskRule::spec() const {
  switch (kind) {
    case window:
      return "window(size=" + std::to_string(size) + ",sinks=" + std::to_string(sinks) + ")";
    case block:
      return "block(size=" + std::to_string(size) + ")";
    case dilated:
      return "dilated(size=" + std::to_string(size) + ",rate=" + std::to_string(rate) +
             ",sinks=" + std::to_string(sinks) + ")";
  }
  return "";
}

bool MaskSet::is_mask(const std::string& name) {
  return name == "window" || name == "block" || name == "dilated";
}

void MaskSet::add(const SpecTerm& term) {
  SpecArgs a("mask '" + term.name + "'", term.args);
  MaskRule r;
  if (term.name == "window") {
    r.kind = MaskRule::window;
    r.size = a.require_int("size", 1, INT_MAX);
    r.sinks = a.get_int("sinks", 0, 0, INT_MAX);
  } else if (term.name == "block") {
    r.kind = MaskRule::block;
    r.size = a.require_int("size", 1, INT_MAX);
  } else if (term.name == "dilated") {
    r.kind = MaskRule::dilated;
    r.size = a.require_int("size", 1, INT_MAX);
    r.rate = a.get_int("rate", 2, 1, INT_MAX);
    r.sinks = a.get_int("sinks", 0, 0, INT_MAX);
  } else {
    throw Error("unknown mask modifier '" + term.name + "'; masks are: window, block, dilated");
  }
  a.finish();
  rules_.push_back(r);
}

int MaskSet::visible_count(int t) const {
  if (rules_.empty()) return t + 1;
  std::vector<int> keys;
  visible_keys(t, keys);
  return int(keys.size());
}

void MaskSet::visible_keys(int t, std::vector<int>& out) const {
  if (t < 0) return;
  const size_t start = out.size();
  auto range = [&](int lo, int hi) {  // [lo, hi]
    for (int j = std::max(lo, 0); j <= hi; ++j) out.push_back(j);
  };
  if (rules_.empty()) return range(0, t);
  const MaskRule& r = rules_.front();
  switch (r.kind) {
    case MaskRule::window: {
      const int n_sinks = std::min(r.sinks, t + 1);
      range(0, n_sinks - 1);
      range(std::max(n_sinks, t - r.size + 1), t);
      break;
    }
    case MaskRule::block:
      range(t - t % r.size, t);
      break;
    case MaskRule::dilated: {
      const int n_sinks = std::min(r.sinks, t + 1);
      range(0, n_sinks - 1);
      for (int i = std::min(r.size - 1, t / r.rate); i >= 0; --i) {
        const int j = t - i * r.rate;
        if (j >= n_sinks) out.push_back(j);
      }
      break;
    }
  }
  if (rules_.size() == 1) return;
  size_t w = start;
  for (size_t i = start; i < out.size(); ++i)
    if (visible(t, out[i])) out[w++] = out[i];
  out.resize(w);
}

std::string MaskSet::spec_suffix(size_t skip) const {
  std::string s;
  for (size_t i = skip; i < rules_.size(); ++i) s += "+" + rules_[i].spec();
  return s;
}

}  // namespace attnlab
