#include "analysis/sparse/budget.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/attention/spec.h"
#include "core/tensor/error.h"

namespace attnlab {

std::string Budget::str() const {
  switch (kind) {
    case tokens:
      return format_number(value);
    case fraction:
      return format_number(value * 100.0) + "%";
    case blocks:
      return format_number(value) + "b";
  }
  return "";
}

int Budget::row_keys(int n, int block) const {
  if (n <= 0) return 0;
  double k = 0;
  switch (kind) {
    case tokens:
      k = value;
      break;
    // ceil, with a margin so that 0.25 x 400 keeps exactly 100 despite rounding in rho.
    case fraction:
      k = std::ceil(value * n - 1e-9);
      break;
    case blocks:
      k = value * block;
      break;
  }
  return int(std::clamp(k, 1.0, double(n)));
}

Budget parse_budget(const std::string& text) {
  const std::string forms =
      "a budget is tokens (\"64\"), a fraction of the visible keys (\"0.25\" or \"25%\") or key "
      "blocks (\"4b\")";
  std::string s = text;
  s.erase(std::remove_if(s.begin(), s.end(), ::isspace), s.end());
  Budget b;
  double scale = 1.0;
  if (!s.empty() && s.back() == '%') {
    b.kind = Budget::fraction;
    scale = 0.01;
    s.pop_back();
  } else if (!s.empty() && s.back() == 'b') {
    b.kind = Budget::blocks;
    s.pop_back();
  } else if (s.find_first_of(".eE") != std::string::npos) {
    b.kind = Budget::fraction;
  }
  double v = 0;
  size_t used = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (s.empty() || used != s.size() || !std::isfinite(v))
    throw Error("budget '" + text + "': " + forms);
  v *= scale;
  if (b.kind == Budget::fraction && !(v > 0 && v <= 1))
    throw Error("budget '" + text + "': a fraction must lie in (0, 1]");
  if (b.kind != Budget::fraction && (v < 1 || v != std::floor(v) || v > 1e9))
    throw Error("budget '" + text + "': token and block budgets are whole numbers >= 1 (" + forms +
                ")");
  b.value = v;
  return b;
}

std::vector<Budget> parse_budgets(const std::string& list) {
  std::vector<Budget> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ','))
    if (item.find_first_not_of(" \t") != std::string::npos) out.push_back(parse_budget(item));
  return out;
}

}  // namespace attnlab
