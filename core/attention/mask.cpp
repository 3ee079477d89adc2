#include "core/attention/mask.h"

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

std::string MaskSet::spec_suffix(size_t skip) const {
  std::string s;
  for (size_t i = skip; i < rules_.size(); ++i) s += "+" + rules_[i].spec();
  return s;
}

}  // namespace attnlab
