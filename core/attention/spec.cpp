#include "core/attention/spec.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "core/tensor/error.h"

namespace attnlab {

namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool is_ident(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

}  // namespace

std::vector<SpecTerm> parse_spec(const std::string& spec, const std::string& what,
                                 bool allow_empty_values) {
  auto bad = [&](const std::string& why) -> Error {
    return Error("bad " + what + " '" + spec + "': " + why +
                 " (expected name(key=value,...), optionally followed by +name(...))");
  };
  std::vector<SpecTerm> terms;
  size_t i = 0;
  const size_t n = spec.size();
  while (true) {
    size_t open = i;
    while (open < n && spec[open] != '(' && spec[open] != '+') ++open;
    SpecTerm term;
    term.name = trim(spec.substr(i, open - i));
    if (!is_ident(term.name)) throw bad("'" + term.name + "' is not a name");
    i = open;
    if (i < n && spec[i] == '(') {
      size_t close = spec.find(')', i);
      if (close == std::string::npos) throw bad("missing ')'");
      std::string inner = spec.substr(i + 1, close - i - 1);
      if (inner.find('(') != std::string::npos) throw bad("nested '('");
      if (!trim(inner).empty()) {
        size_t p = 0;
        while (true) {
          size_t comma = inner.find(',', p);
          std::string kv = inner.substr(p, comma == std::string::npos ? std::string::npos : comma - p);
          size_t eq = kv.find('=');
          if (eq == std::string::npos) throw bad("argument '" + trim(kv) + "' has no '='");
          std::string key = trim(kv.substr(0, eq)), value = trim(kv.substr(eq + 1));
          if (!is_ident(key)) throw bad("'" + key + "' is not a parameter name");
          if (value.empty() && !allow_empty_values) throw bad("parameter '" + key + "' has no value");
          for (const auto& [k, v] : term.args)
            if (k == key) throw bad("parameter '" + key + "' given twice");
          term.args.emplace_back(key, value);
          if (comma == std::string::npos) break;
          p = comma + 1;
        }
      }
      i = close + 1;
      while (i < n && std::isspace(static_cast<unsigned char>(spec[i]))) ++i;
    }
    terms.push_back(std::move(term));
    if (i >= n) break;
    if (spec[i] != '+') throw bad("unexpected '" + spec.substr(i, 1) + "'");
    ++i;
  }
  return terms;
}

std::optional<int> parse_whole_number(const std::string& s) {
  try {
    size_t used = 0;
    const int v = std::stoi(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::string format_number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

SpecArgs::SpecArgs(std::string what, std::vector<std::pair<std::string, std::string>> args)
    : what_(std::move(what)), args_(std::move(args)) {}

const std::string* SpecArgs::find(const std::string& key) {
  known_.push_back(key);
  for (const auto& [k, v] : args_)
    if (k == key) return &v;
  return nullptr;
}

bool SpecArgs::has(const std::string& key) {
  for (const auto& [k, v] : args_)
    if (k == key) return true;
  return false;
}

void SpecArgs::fail(const std::string& key, const std::string& why) const {
  throw Error(what_ + ": parameter '" + key + "' " + why);
}

static bool parse_double(const std::string& s, double& out) {
  const char* b = s.c_str();
  char* e = nullptr;
  out = std::strtod(b, &e);
  return e != b && *e == '\0' && std::isfinite(out);
}

int SpecArgs::get_int(const std::string& key, int def, int min_value, int max_value) {
  const std::string* v = find(key);
  if (!v) return def;
  int out = 0;
  auto r = std::from_chars(v->data(), v->data() + v->size(), out);
  if (r.ec != std::errc() || r.ptr != v->data() + v->size())
    fail(key, "must be an integer, got '" + *v + "'");
  if (out < min_value || out > max_value)
    fail(key, "must be in [" + std::to_string(min_value) + ", " + std::to_string(max_value) +
                  "], got " + *v);
  return out;
}

int SpecArgs::require_int(const std::string& key, int min_value, int max_value) {
  if (!has(key)) {
    find(key);
    fail(key, "is required");
  }
  return get_int(key, 0, min_value, max_value);
}

double SpecArgs::get_float(const std::string& key, double def) {
  const std::string* v = find(key);
  if (!v) return def;
  double out = 0;
  if (!parse_double(*v, out)) fail(key, "must be a finite number, got '" + *v + "'");
  return out;
}

bool SpecArgs::get_bool(const std::string& key, bool def) {
  const std::string* v = find(key);
  if (!v) return def;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  fail(key, "must be true or false, got '" + *v + "'");
}

std::string SpecArgs::get_choice(const std::string& key, const std::string& def,
                                 const std::vector<std::string>& choices) {
  const std::string* v = find(key);
  if (!v) return def;
  for (const auto& c : choices)
    if (c == *v) return c;
  fail(key, "must be one of " + join(choices) + ", got '" + *v + "'");
}

std::string SpecArgs::get_raw(const std::string& key, const std::string& def) {
  const std::string* v = find(key);
  return v ? *v : def;
}

void SpecArgs::finish() const {
  for (const auto& [k, v] : args_) {
    bool ok = false;
    for (const auto& kn : known_) ok = ok || kn == k;
    if (!ok)
      throw Error(what_ + ": unknown parameter '" + k + "'; its parameters are: " +
                  (known_.empty() ? std::string("(none)") : join(known_)));
  }
}

}  // namespace attnlab
